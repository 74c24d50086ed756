// Hands out immutable snapshots of the read-only store and swaps in a new one when the store's
// files change (e.g. `recsys index` wrote a new ID map). A request holds a shared_ptr to the
// snapshot it started with, so a swap never disturbs it; the old store closes when its last
// request finishes. Swaps are atomic: a new map is either entirely visible or not at all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.h"

namespace recsys::server {

struct StoreSnapshot {
  std::shared_ptr<const storage::Store> store;
  std::vector<storage::MapInfo> maps;  // list_id_maps() at open time (immutable per snapshot)
  // Item -> semantic ID of each map (parallel to `maps`), read once per snapshot: annotating an
  // item with its IDs is then a vector lookup instead of a meta read + JSON parse + Get per map.
  // The reverse direction (full ID or prefix -> items) stays on the store's sid_rev scans.
  std::vector<std::vector<SemanticId>> item_ids;
  uint64_t generation = 0;  // 1 for the first snapshot, +1 per swap
  const storage::MapInfo* find_map(const std::string& name) const;
};

class StoreProvider {
 public:
  // Opens the store read-only (throws like storage::Store::open).
  explicit StoreProvider(std::string path);
  ~StoreProvider();
  StoreProvider(const StoreProvider&) = delete;
  StoreProvider& operator=(const StoreProvider&) = delete;

  std::shared_ptr<const StoreSnapshot> current() const;

  // For a request that named an unknown map: refresh, at most once per `min_interval_ms`, unless
  // a refresh is running already (never waits for it). Returns true if a new snapshot appeared.
  bool refresh_on_miss(int64_t min_interval_ms);

  // Background thread calling refresh() every interval_ms until stop_background().
  void start_background(int64_t interval_ms);
  void stop_background();

  // Called with each re-opened store before it is swapped in; throwing refuses it: the old
  // snapshot keeps serving, the refresh counts as failed, and the same files are not tried again.
  // `recsys serve --model` refuses a store that holds other data than the model was loaded for.
  // Set before start_background().
  std::function<void(const storage::Store&)> check_store;
  // Observers (metrics).
  std::function<void(uint64_t generation)> on_refreshed;
  std::function<void()> on_refresh_failed;

 private:
  // Re-opens the store if its files changed since the last open; returns true when a new
  // snapshot was swapped in. A failed open keeps the old snapshot and is reported through the
  // failure callback (never throws).
  bool refresh();
  bool refresh_locked();            // refresh() with refresh_mutex_ held
  std::string fingerprint() const;  // names, sizes and mtimes of the store's files

  const std::string path_;
  mutable std::mutex snapshot_mutex_;  // guards snapshot_ (a shared_ptr swap)
  std::shared_ptr<const StoreSnapshot> snapshot_;
  std::mutex refresh_mutex_;  // one refresh at a time
  std::string fingerprint_;
  std::chrono::steady_clock::time_point last_miss_refresh_{};

  std::mutex bg_mutex_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;
  std::thread bg_thread_;
};

}  // namespace recsys::server
