#include "server/store_provider.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>

#include "recsys/logging.h"

namespace recsys::server {

namespace fs = std::filesystem;

namespace {

std::shared_ptr<const StoreSnapshot> open_snapshot(const std::string& path, uint64_t generation) {
  auto snap = std::make_shared<StoreSnapshot>();
  snap->store = storage::Store::open(path, storage::Store::Mode::kReadOnly);
  snap->maps = snap->store->list_id_maps();
  for (const auto& m : snap->maps) {
    auto map = snap->store->load_id_map(m.name);
    snap->item_ids.push_back(map ? std::move(map->ids) : std::vector<SemanticId>());
  }
  snap->generation = generation;
  return snap;
}

}  // namespace

const storage::MapInfo* StoreSnapshot::find_map(const std::string& name) const {
  for (const auto& m : maps)
    if (m.name == name) return &m;
  return nullptr;
}

StoreProvider::StoreProvider(std::string path) : path_(std::move(path)) {
  fingerprint_ = fingerprint();
  snapshot_ = open_snapshot(path_, 1);
}

StoreProvider::~StoreProvider() { stop_background(); }

std::shared_ptr<const StoreSnapshot> StoreProvider::current() const {
  std::lock_guard<std::mutex> lock(snapshot_mutex_);
  return snapshot_;
}

std::string StoreProvider::fingerprint() const {
  // RocksDB's info log (LOG, LOG.old.*) changes on every open, so it is left out; every write
  // that matters touches the WAL, a MANIFEST or an SST file.
  std::ostringstream os;
  std::error_code ec;
  std::vector<std::string> lines;
  for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("LOG", 0) == 0) continue;
    std::error_code ec2;
    const auto size = it->file_size(ec2);
    const auto mtime = it->last_write_time(ec2).time_since_epoch().count();
    lines.push_back(name + ":" + std::to_string(size) + ":" + std::to_string(mtime));
  }
  std::sort(lines.begin(), lines.end());
  for (const auto& l : lines) os << l << "\n";
  return os.str();
}

bool StoreProvider::refresh() {
  std::lock_guard<std::mutex> lock(refresh_mutex_);
  return refresh_locked();
}

bool StoreProvider::refresh_locked() {
  const std::string fp = fingerprint();
  if (fp == fingerprint_) return false;
  const uint64_t next_generation = current()->generation + 1;
  std::shared_ptr<const StoreSnapshot> fresh;
  try {
    fresh = open_snapshot(path_, next_generation);
  } catch (const std::exception& e) {
    RECSYS_LOG(Warning) << "store refresh failed, still serving generation " << next_generation - 1
                        << ": " << e.what();
    if (on_refresh_failed) on_refresh_failed();
    return false;
  }
  if (check_store) {
    try {
      check_store(*fresh->store);
    } catch (const std::exception& e) {
      RECSYS_LOG(Error) << "store '" << path_ << "' changed and was refused, still serving "
                        << "generation " << next_generation - 1 << ": " << e.what();
      fingerprint_ = fp;  // the same files would be refused again
      if (on_refresh_failed) on_refresh_failed();
      return false;
    }
  }
  fingerprint_ = fp;
  {
    std::lock_guard<std::mutex> slock(snapshot_mutex_);
    snapshot_ = fresh;
  }
  RECSYS_LOG(Info) << "store refreshed: generation " << next_generation << ", "
                   << fresh->maps.size() << " ID map(s)";
  if (on_refreshed) on_refreshed(next_generation);
  return true;
}

bool StoreProvider::refresh_on_miss(int64_t min_interval_ms) {
  if (min_interval_ms <= 0) return false;
  // Never waits for a refresh already running (it may take seconds on a large store): the caller
  // is an I/O thread, and two of them waiting would stall every connection. The request answers
  // from the snapshot it has; the next one sees the new snapshot.
  std::unique_lock<std::mutex> lock(refresh_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_miss_refresh_ < std::chrono::milliseconds(min_interval_ms)) return false;
  last_miss_refresh_ = now;
  return refresh_locked();
}

void StoreProvider::start_background(int64_t interval_ms) {
  if (interval_ms <= 0 || bg_thread_.joinable()) return;
  bg_stop_ = false;
  bg_thread_ = std::thread([this, interval_ms] {
    std::unique_lock<std::mutex> lock(bg_mutex_);
    while (!bg_cv_.wait_for(lock, std::chrono::milliseconds(interval_ms),
                            [this] { return bg_stop_; })) {
      lock.unlock();
      refresh();
      lock.lock();
    }
  });
}

void StoreProvider::stop_background() {
  {
    std::lock_guard<std::mutex> lock(bg_mutex_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
}

}  // namespace recsys::server
