// The embedded RocksDB store of one dataset: items, users, dataset statistics and named semantic-ID
// maps. The only component that includes RocksDB headers (they stay in store.cc); Status is
// converted to recsys::Error here, not-found is std::optional.
//
// Column families: meta, items, item_keys, users, user_keys, sid, sid_rev. ID maps are versioned:
// the tokens of map M version v live under the key prefix "M\0" + be32(v) in sid / sid_rev, and the
// meta key "map/M" names the current version. A new version is written completely first, the meta
// pointer is flipped last (in the same WriteBatch as the map's last rows), then the old version is
// deleted: readers never see a half map.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::storage {

inline constexpr uint32_t kFormatVersion = 1;

struct MapInfo {
  std::string name;
  std::string method;
  uint32_t version = 0;
  std::vector<uint32_t> vocab;
  uint64_t num_items = 0;
  std::string config_json;
  std::string report_json;
};

class Store {
 public:
  enum class Mode { kReadOnly, kReadWrite };

  // Opens an existing, complete store. Throws kNotFound if absent, kCorruption if the ingest that
  // made it did not complete, kUnsupported if its format version is unknown.
  static std::unique_ptr<Store> open(const std::string& path, Mode mode = Mode::kReadOnly);

  // Writes a whole dataset as a new store at `path`, atomically: the data goes to a sibling
  // staging directory, gets its "complete" marker last, and is then renamed into place (replacing
  // an existing store only if `overwrite`). A failure at any point leaves no store at `path` that
  // looks complete. `fail_after_items` is a test hook: throw after writing that many items.
  static void write_dataset(const std::string& path, const Dataset& dataset,
                            const std::string& config_json, bool overwrite,
                            int64_t fail_after_items = -1);

  // Whether write_dataset(path, ..., overwrite) may write there, checked before any work: nothing
  // at `path`, or with `overwrite` a store (never any other file or directory, which --overwrite
  // would otherwise delete). Throws kInvalidArgument otherwise. A trailing '/' is ignored.
  static void check_writable(const std::string& path, bool overwrite);

  // Map names: 1..64 letters, digits, '_', '-', '.'; throws kInvalidArgument otherwise (checked
  // again by write_id_map, and worth checking before the work that makes a map).
  static void check_map_name(const std::string& name);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  DatasetStats stats() const;
  std::string dataset_name() const;
  std::string ingest_config_json() const;

  std::optional<ItemRecord> get_item(ItemIndex index) const;
  std::optional<ItemIndex> find_item(const std::string& external_id) const;
  // MultiGet over item_keys then items; result i is empty when external_ids[i] is unknown.
  std::vector<std::optional<std::pair<ItemIndex, ItemRecord>>> get_items_by_key(
      const std::vector<std::string>& external_ids) const;
  std::optional<UserRecord> get_user(UserIndex index) const;
  std::optional<UserIndex> find_user(const std::string& external_id) const;
  // Loads everything back into memory (items in index order, users in index order).
  Dataset load_dataset() const;

  // --- semantic-ID maps ---
  // Writes `map` (validated first) as a new version of map.name; see the header comment.
  // fail_after_items is a test hook that throws mid-write.
  void write_id_map(const IdMap& map, int64_t fail_after_items = -1);
  std::vector<MapInfo> list_id_maps() const;
  std::optional<MapInfo> map_info(const std::string& name) const;
  std::optional<IdMap> load_id_map(const std::string& name) const;
  std::optional<SemanticId> semantic_id(const std::string& map, ItemIndex item) const;
  std::optional<ItemIndex> item_by_semantic_id(const std::string& map, const SemanticId& id) const;
  // Items whose ID starts with `prefix`, in token order, starting strictly after `after` when
  // given (cursor paging); at most `limit` results.
  std::vector<std::pair<SemanticId, ItemIndex>> items_by_prefix(
      const std::string& map, const SemanticId& prefix, size_t limit,
      const std::optional<SemanticId>& after = std::nullopt) const;

 private:
  struct Impl;
  Store(std::string path, Mode mode);
  std::string path_;
  Mode mode_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys::storage
