#include "recsys/cli/lm_index_command.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "indexer/collision_suffix.h"
#include "indexer/id_quality_report.h"
#include "indexer/lm_indexer.h"
#include "indexer/tfidf_features.h"
#include "recsys/cli/command.h"
#include "recsys/error.h"
#include "recsys/hash.h"
#include "recsys/logging.h"
#include "storage/store.h"

namespace recsys::cli {
namespace {

// Peak resident memory of this process in MiB (VmHWM), 0 when unknown.
double peak_rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

// Beside the store; a dry run's is its own, so that it never replaces the model of a stored map.
std::string default_checkpoint(std::string store_path, const std::string& name, bool dry_run) {
  while (store_path.size() > 1 && store_path.back() == '/') store_path.pop_back();
  return store_path + "." + name + (dry_run ? ".dry-run.ckpt" : ".ckpt");
}

}  // namespace

int run_lmindexer_index(const std::vector<std::string>& args) {
  std::string store_path, method, name = "lmindexer", text_field = "title", json_path;
  bool dry_run = false;
  indexer::LMIndexerOptions lo;
  po::options_description desc("recsys index --method lmindexer");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "method", po::value(&method)->required(), "lmindexer")(
      "name", po::value(&name)->default_value(name), "name of the ID map")(
      "text-field", po::value(&text_field)->default_value(text_field),
      "item text: title | text (the ingest template)")(
      "json", po::value(&json_path), "also write the quality report and training log as JSON")(
      "dry-run", po::bool_switch(&dry_run), "train and report, but do not write the store");
  lo.add_options(desc);
  po::variables_map vm;
  if (!parse_options("usage: recsys index --store DIR --method lmindexer [--name NAME] [options]\n"
                     "Trains LMIndexer (self-supervised semantic IDs from item text) and stores "
                     "the map; resumes from --checkpoint when it exists.",
                     args, desc, vm))
    return 0;
  RECSYS_CHECK(method == "lmindexer", "this entry point serves --method lmindexer only");
  if (!dry_run) storage::Store::check_map_name(name);  // before the training, not after it
  if (lo.checkpoint_path.empty())
    lo.checkpoint_path = default_checkpoint(store_path, name, dry_run);
  lo.validate();

  auto store = storage::Store::open(
      store_path, dry_run ? storage::Store::Mode::kReadOnly : storage::Store::Mode::kReadWrite);
  const Dataset dataset = store->load_dataset();
  RECSYS_CHECK(!dataset.items.empty(), "store '", store_path, "' has no items");
  std::vector<std::string> texts;
  texts.reserve(dataset.items.size());
  for (const auto& item : dataset.items)
    texts.push_back(indexer::item_field_text(item, text_field));

  const auto t0 = std::chrono::steady_clock::now();
  indexer::LMIndexer lm = indexer::LMIndexer::train(texts, lo);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RECSYS_CHECK(lm.complete(), "training stopped before all positions were trained");
  const double drift = lm.drift();
  const indexer::LMIndexerReassignStats& reassigned = lm.reassign_stats();
  nlohmann::json reassign_json = {{"done", reassigned.done}};
  if (reassigned.done)
    reassign_json.update({{"items", reassigned.items},
                          {"items_changed", reassigned.items_changed},
                          {"fraction_changed", reassigned.fraction_changed()},
                          {"changed_per_position", reassigned.changed_per_position}});

  IdMap map = indexer::make_id_map(name, "lmindexer", lm.codes(),
                                   std::vector<uint32_t>(lo.id_length, lo.codebook_size));
  nlohmann::json config = nlohmann::json::parse(lo.to_json());
  config["text_field"] = text_field;
  // `index assign` finds the model from anywhere, and knows it for the one that made the map.
  config["checkpoint"] = std::filesystem::absolute(lo.checkpoint_path).string();
  config["checkpoint_fingerprint"] = file_fingerprint(lo.checkpoint_path);
  config["num_items"] = texts.size();
  map.config_json = config.dump();
  const indexer::IdQualityReport report =
      indexer::make_id_quality_report(map, dataset.items, dataset.users);
  {
    nlohmann::json stored = nlohmann::json::parse(report.to_json());
    stored["lmindexer_final_reassign"] = reassign_json;
    stored["lmindexer_drift"] = drift;
    if (!lo.glove_path.empty()) stored["lmindexer_glove_matched_pieces"] = lm.glove_matched();
    map.report_json = stored.dump();
  }
  if (!dry_run) store->write_id_map(map);

  const double peak = peak_rss_mib();
  std::cout << report.to_table();
  std::cout << "\nlmindexer: training " << lm.training_seconds() << " s (this run " << wall_s
            << " s), peak RSS " << peak << " MiB, regenerated-ID drift " << drift;
  if (reassigned.done)
    std::cout << " (final reassignment changed " << reassigned.items_changed << " of "
              << reassigned.items << " items, " << 100.0 * reassigned.fraction_changed() << "%)";
  if (!lo.glove_path.empty()) std::cout << ", GloVe pieces matched " << lm.glove_matched();
  std::cout << "\ncheckpoint " << lo.checkpoint_path
            << (dry_run ? " (dry run: not stored)" : "; stored as map '" + name + "'") << "\n";
  if (!json_path.empty()) {
    nlohmann::json j = nlohmann::json::parse(report.to_json());
    j["config"] = config;
    j["seconds"] = {{"training_total", lm.training_seconds()}, {"this_run", wall_s}};
    j["peak_rss_mib"] = peak;
    j["drift"] = drift;
    j["final_reassign"] = reassign_json;
    if (!lo.glove_path.empty()) j["glove_matched_pieces"] = lm.glove_matched();
    nlohmann::json hist = nlohmann::json::array();
    for (const auto& h : lm.history())
      hist.push_back({{"position", h.position + 1},
                      {"phase", h.phase},
                      {"epoch", h.epoch + 1},
                      {"reconstruction", h.reconstruction},
                      {"contrastive", h.contrastive},
                      {"commitment", h.commitment},
                      {"masked_accuracy", h.masked_accuracy},
                      {"seconds", h.seconds},
                      {"items_per_second", h.items_per_second}});
    j["training"] = hist;
    std::ofstream out(json_path);
    if (!out) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", json_path, "'");
    out << j.dump(2) << "\n";
  }
  return 0;
}

int run_index_assign(const std::vector<std::string>& args) {
  std::string store_path, name = "lmindexer", items_path, checkpoint, output;
  po::options_description desc("recsys index assign");
  desc.add_options()("store", po::value(&store_path)->required(), "store directory")(
      "name", po::value(&name)->default_value(name), "ID map made by --method lmindexer")(
      "items", po::value(&items_path)->required(),
      "new items, one a line: external_id<TAB>text (or only the text, printed as line:N)")(
      "checkpoint", po::value(&checkpoint), "LMIndexer checkpoint (default: the map's)")(
      "output", po::value(&output), "write the IDs here instead of stdout");
  po::variables_map vm;
  if (!parse_options("usage: recsys index assign --store DIR --name NAME --items FILE\n"
                     "Generates semantic IDs for new items from the trained LMIndexer, without "
                     "retraining. Prints external_id, ID, and whether the item is new. The IDs "
                     "are not stored: new items of one call get distinct collision suffixes, "
                     "items of separate calls may get the same ID (give them all in one call, or "
                     "rebuild the map).",
                     args, desc, vm))
    return 0;
  auto store = storage::Store::open(store_path);
  const auto info = store->map_info(name);
  if (!info) throw_unknown_id_map(*store, name);
  RECSYS_CHECK(info->method == "lmindexer", "map '", name, "' was made by ", info->method,
               ", not lmindexer: only LMIndexer maps can assign IDs to new items");
  auto config = nlohmann::json::parse(info->config_json, nullptr, false);
  if (config.is_discarded()) config = nlohmann::json::object();
  if (checkpoint.empty() && config.contains("checkpoint"))
    checkpoint = config["checkpoint"].get<std::string>();
  RECSYS_CHECK(!checkpoint.empty(), "map '", name, "' names no checkpoint; pass --checkpoint");
  // The model must be the one that made the map: another one's codes mean other things.
  if (config.contains("checkpoint_fingerprint")) {
    RECSYS_CHECK(std::filesystem::exists(checkpoint), "checkpoint '", checkpoint, "' of map '",
                 name, "' is missing");
    RECSYS_CHECK(
        file_fingerprint(checkpoint) == config["checkpoint_fingerprint"].get<std::string>(),
        "checkpoint '", checkpoint, "' is not the model that made map '", name,
        "' (it was retrained or replaced since the map was stored): its codes would not "
        "match the map's; rebuild the map with `recsys index --method lmindexer --name ",
        name, "`");
  }

  std::ifstream in(items_path);
  if (!in) RECSYS_THROW(ErrorCode::kNotFound, "cannot read --items '", items_path, "'");
  // A line of text only is named by its line number, which is never looked up in the store (an
  // item may have that external id).
  std::vector<std::string> ids, texts;
  std::vector<bool> keyed;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    keyed.push_back(tab != std::string::npos);
    ids.push_back(keyed.back() ? line.substr(0, tab) : "line:" + std::to_string(n));
    texts.push_back(keyed.back() ? line.substr(tab + 1) : line);
  }
  RECSYS_CHECK(!texts.empty(), "--items '", items_path, "' has no items");

  const indexer::LMIndexer lm = indexer::LMIndexer::load(checkpoint);
  RECSYS_CHECK(lm.options().id_length + 1 == info->vocab.size(), "checkpoint ", checkpoint, " has ",
               lm.options().id_length, " positions but map '", name, "' has ",
               info->vocab.size() - 1);
  for (size_t l = 0; l < lm.options().id_length; ++l)
    RECSYS_CHECK(uint32_t(lm.options().codebook_size) == info->vocab[l], "checkpoint ", checkpoint,
                 " has ", lm.options().codebook_size, " codes per position but map '", name,
                 "' has ", info->vocab[l], " at position ", l + 1);
  const auto codes = lm.assign(texts);
  std::ofstream file;
  if (!output.empty()) {
    file.open(output);
    if (!file) RECSYS_THROW(ErrorCode::kIOError, "cannot write '", output, "'");
  }
  std::ostream& out = output.empty() ? std::cout : file;
  // Collision suffix continues after the items already stored under the same codes.
  std::map<SemanticId, uint32_t> taken;
  std::map<std::string, SemanticId> given;  // keyed new items: one ID each, however often listed
  size_t beyond = 0;  // new IDs whose suffix the map's vocabulary does not have
  for (size_t i = 0; i < texts.size(); ++i) {
    if (const auto known = keyed[i] ? store->find_item(ids[i]) : std::nullopt) {
      if (const auto sid = store->semantic_id(name, *known)) {
        out << ids[i] << "\t" << format_semantic_id(*sid) << "\texisting\n";
        continue;
      }
    }
    if (auto repeat = keyed[i] ? given.find(ids[i]) : given.end(); repeat != given.end()) {
      out << ids[i] << "\t" << format_semantic_id(repeat->second) << "\tnew\n";
      continue;
    }
    auto it = taken.find(codes[i]);
    if (it == taken.end())
      it =
          taken.emplace(codes[i], uint32_t(store->items_by_prefix(name, codes[i], 1u << 20).size()))
              .first;
    const uint32_t suffix = it->second++;
    RECSYS_CHECK(suffix <= 0xFFFF, "more than 65,536 items share the codes ",
                 format_semantic_id(codes[i]), ": no collision suffix is left");
    if (suffix >= info->vocab.back()) ++beyond;
    SemanticId id = codes[i];
    id.push_back(Token(suffix));
    if (keyed[i]) given.emplace(ids[i], id);
    out << ids[i] << "\t" << format_semantic_id(id) << "\tnew\n";
  }
  if (beyond > 0)
    RECSYS_LOG(Warning) << beyond
                        << " new ID(s) have a collision suffix beyond the suffixes of map '" << name
                        << "' (0-" << info->vocab.back() - 1 << "): a model trained on the "
                        << "map cannot produce them until the map is rebuilt with these items";
  return 0;
}

}  // namespace recsys::cli
