// recsys lookup: item by external id or index, item -> semantic IDs, full ID or prefix -> items.
#include <iostream>

#include "recsys/cli/command.h"
#include "recsys/error.h"
#include "storage/store.h"

namespace recsys::cli {

namespace {

// The record of the item a key, index or semantic ID points at; only a damaged store lacks it.
ItemRecord stored_item(const storage::Store& store, ItemIndex index) {
  auto rec = store.get_item(index);
  if (!rec)
    RECSYS_THROW(ErrorCode::kCorruption, "store '", store.path(), "' has no record of item ",
                 index);
  return *rec;
}

void print_item(const storage::Store& store, ItemIndex index, const ItemRecord& item) {
  std::cout << "item " << index << "  " << item.external_id << "\n  title: " << item.title << "\n";
  if (!item.brand.empty()) std::cout << "  brand: " << item.brand << "\n";
  for (const auto& path : item.categories) {
    std::cout << "  category:";
    for (size_t i = 0; i < path.size(); ++i) std::cout << (i ? " > " : " ") << path[i];
    std::cout << "\n";
  }
  for (const auto& m : store.list_id_maps()) {
    if (auto id = store.semantic_id(m.name, index))
      std::cout << "  id[" << m.name << "]: " << format_semantic_id(*id) << "\n";
  }
}

int run_lookup(const std::vector<std::string>& args) {
  std::string store_path, item, map, id, prefix;
  long index = -1;
  size_t limit = 20;
  po::options_description desc("recsys lookup");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "item", po::value(&item), "item by external id (e.g. ASIN)")(
      "index", po::value(&index), "item by index")("map", po::value(&map),
                                                   "ID map for --id / --prefix")(
      "id", po::value(&id), "item with this full semantic ID (e.g. 12-7-201-0)")(
      "prefix", po::value(&prefix), "items whose semantic ID starts with this prefix")(
      "limit", po::value(&limit)->default_value(limit),
      "max items for --prefix (an empty prefix lists the whole map)");
  po::variables_map vm;
  if (!parse_options("usage: recsys lookup --store DIR (--item ASIN | --index N | --map M --id "
                     "T1-T2-.. | --map M --prefix T1-..)",
                     args, desc, vm))
    return 0;
  const int modes = int(vm.count("item")) + int(vm.count("index")) + int(vm.count("id")) +
                    int(vm.count("prefix"));
  RECSYS_CHECK(modes == 1, "give exactly one of --item, --index, --id, --prefix");
  auto store = storage::Store::open(store_path);
  if (vm.count("item")) {
    auto idx = store->find_item(item);
    if (!idx) RECSYS_THROW(ErrorCode::kNotFound, "no item '", item, "' in ", store_path);
    print_item(*store, *idx, stored_item(*store, *idx));
    return 0;
  }
  if (vm.count("index")) {
    RECSYS_CHECK(index >= 0, "--index must be >= 0");
    const uint64_t num_items = store->stats().num_items;
    auto rec =
        static_cast<uint64_t>(index) < num_items ? store->get_item(ItemIndex(index)) : std::nullopt;
    if (!rec)
      RECSYS_THROW(ErrorCode::kNotFound, "no item with index ", index, " (the store has ",
                   num_items, " items)");
    print_item(*store, ItemIndex(index), *rec);
    return 0;
  }
  RECSYS_CHECK(!map.empty(), "--id and --prefix need --map NAME");
  const auto info = store->map_info(map);
  if (!info) throw_unknown_id_map(*store, map);
  const size_t length = info->vocab.size();
  if (vm.count("id")) {
    const SemanticId sid = parse_semantic_id(id);
    RECSYS_CHECK(sid.size() == length, "--id ", id, " has ", sid.size(),
                 " tokens, the IDs of map '", map, "' have ", length);
    auto idx = store->item_by_semantic_id(map, sid);
    if (!idx) RECSYS_THROW(ErrorCode::kNotFound, "no item has ID ", id, " in map '", map, "'");
    print_item(*store, *idx, stored_item(*store, *idx));
    return 0;
  }
  RECSYS_CHECK(limit >= 1, "--limit must be at least 1");
  // An empty prefix lists the whole map (up to --limit), as the server's prefix endpoint does.
  const SemanticId sid = prefix.empty() ? SemanticId() : parse_semantic_id(prefix);
  RECSYS_CHECK(sid.size() <= length, "--prefix ", prefix, " has ", sid.size(),
               " tokens, the IDs of map '", map, "' have ", length);
  // One more than --limit: whether there were more to list.
  const auto hits = store->items_by_prefix(map, sid, limit < SIZE_MAX ? limit + 1 : limit);
  for (size_t i = 0; i < hits.size() && i < limit; ++i) {
    const ItemRecord rec = stored_item(*store, hits[i].second);
    std::cout << format_semantic_id(hits[i].first) << "\t" << rec.external_id << "\t" << rec.title
              << "\n";
  }
  if (hits.empty()) std::cout << "(no items under prefix " << prefix << ")\n";
  if (hits.size() > limit) std::cerr << "(stopped at --limit " << limit << ")\n";
  return 0;
}

}  // namespace

void register_lookup_command(CommandRegistry& registry) {
  registry.add({"lookup", "look up items by id, index, semantic ID or ID prefix", run_lookup});
}

}  // namespace recsys::cli
