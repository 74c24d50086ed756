#include "storage/store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "storage/internal/codec.h"

namespace recsys::storage {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace internal;

namespace {

const char* const kColumnFamilies[] = {"default", "meta",      "items", "item_keys",
                                       "users",   "user_keys", "sid",   "sid_rev"};
enum Cf { kDefault, kMeta, kItems, kItemKeys, kUsers, kUserKeys, kSid, kSidRev, kNumCf };
static_assert(std::size(kColumnFamilies) == kNumCf, "one name per column family");

constexpr const char* kCompleteKey = "complete";
constexpr const char* kVersionKey = "format_version";
constexpr const char* kStatsKey = "stats";
constexpr const char* kNameKey = "dataset_name";
constexpr const char* kIngestConfigKey = "config/ingest";
constexpr const char* kMapPrefix = "map/";

void check(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return;
  ErrorCode code = ErrorCode::kIOError;
  if (s.IsCorruption()) code = ErrorCode::kCorruption;
  if (s.IsNotFound()) code = ErrorCode::kNotFound;
  if (s.IsNotSupported()) code = ErrorCode::kUnsupported;
  if (s.IsInvalidArgument()) code = ErrorCode::kInvalidArgument;
  RECSYS_THROW(code, what, ": ", s.ToString());
}

json stats_to_json(const DatasetStats& s) {
  return {{"num_users", s.num_users},
          {"num_items", s.num_items},
          {"num_interactions", s.num_interactions},
          {"items_without_metadata", s.items_without_metadata},
          {"skipped_records", s.skipped_records},
          {"train_interactions", s.split.train_interactions},
          {"valid_users", s.split.valid_users},
          {"test_users", s.split.test_users}};
}

DatasetStats stats_from_json(const json& j) {
  DatasetStats s;
  s.num_users = j.at("num_users");
  s.num_items = j.at("num_items");
  s.num_interactions = j.at("num_interactions");
  s.items_without_metadata = j.value("items_without_metadata", 0);
  s.skipped_records = j.value("skipped_records", 0);
  s.split.train_interactions = j.at("train_interactions");
  s.split.valid_users = j.at("valid_users");
  s.split.test_users = j.at("test_users");
  return s;
}

std::string map_key_prefix(const std::string& name, uint32_t version) {
  std::string k = name;
  k.push_back('\0');
  put_be32(k, version);
  return k;
}

MapInfo map_info_from_json(const std::string& name, const std::string& text) {
  const json j = json::parse(text);
  MapInfo info;
  info.name = name;
  info.method = j.value("method", "");
  info.version = j.at("version");
  info.vocab = j.at("vocab").get<std::vector<uint32_t>>();
  info.num_items = j.at("num_items");
  info.config_json = j.value("config", "");
  info.report_json = j.value("report", "");
  return info;
}

// The store directory `path` names ("out/store/" is "out/store").
fs::path store_dir(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p;
}

// The store's column families that the RocksDB directory `dir` lacks, comma-separated (all of
// them if it is no RocksDB database); empty for a store. Their names come from the MANIFEST
// alone: opening the database would replay its write-ahead log (which made `data prepare
// --overwrite` of Beauty 0.3 s slower) and, read-write, would add what is missing.
std::string missing_column_families(const fs::path& dir) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.string(), &names).ok())
    names.clear();
  std::string missing;
  for (const char* cf : kColumnFamilies) {
    if (std::find(names.begin(), names.end(), cf) != names.end()) continue;
    missing += missing.empty() ? cf : std::string(", ") + cf;
  }
  return missing;
}

// Whether a process holds RocksDB's lock on the database in `dir`, i.e. has it open for writing.
// `why` receives the lock error.
bool locked_by_a_writer(const fs::path& dir, std::string* why) {
  rocksdb::FileLock* lock = nullptr;
  const rocksdb::Status s = rocksdb::Env::Default()->LockFile((dir / "LOCK").string(), &lock);
  if (!s.ok()) {
    if (why) *why = s.ToString();
    return true;
  }
  rocksdb::Env::Default()->UnlockFile(lock);
  return false;
}

// Removes "<target>.staging-<pid>" directories that no process is writing: what a `data prepare`
// killed before its rename left behind. One that a live ingest is writing holds RocksDB's lock.
void remove_abandoned_staging(const fs::path& target) {
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string prefix = target.filename().string() + ".staging-";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        !std::all_of(name.begin() + prefix.size(), name.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) ||
        !entry.is_directory() || locked_by_a_writer(entry.path(), nullptr))
      continue;
    fs::remove_all(entry.path(), ec);
    if (!ec)
      RECSYS_LOG(Info) << "removed " << entry.path().string() << ", left by an ingest that "
                       << "did not finish";
  }
}

}  // namespace

void Store::check_map_name(const std::string& name) {
  RECSYS_CHECK(!name.empty() && name.size() <= 64, "map name must have 1..64 characters");
  for (char c : name)
    RECSYS_CHECK(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.',
                 "map name '", name, "' may only contain letters, digits, '_', '-', '.'");
}

struct Store::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf;
  bool read_only = false;

  // Version and ID length of each map, memoised for read-only instances (which never change
  // until re-opened): per-item lookups otherwise re-read and re-parse the map's meta JSON, quality
  // report included, on every call (about half the server's CPU per full-ID lookup).
  struct MapKey {
    uint32_t version;
    size_t length;
  };
  std::mutex map_keys_mutex;
  std::unordered_map<std::string, MapKey> map_keys;

  ~Impl() { close(); }
  void close() {
    if (!db) return;
    for (auto* h : cf) db->DestroyColumnFamilyHandle(h);
    cf.clear();
    db.reset();
    std::lock_guard<std::mutex> lock(map_keys_mutex);
    map_keys.clear();
  }

  // `create`: make the database and its column families (only a new staging store); otherwise
  // opening another RocksDB database must never add ours to it.
  static rocksdb::Options db_options(bool create) {
    rocksdb::Options o;
    o.create_if_missing = create;
    o.create_missing_column_families = create;
    o.IncreaseParallelism(2);
    o.compression = rocksdb::kNoCompression;
    o.info_log_level = rocksdb::WARN_LEVEL;
    o.keep_log_file_num = 2;
    return o;
  }

  void open(const std::string& path, bool read_only, bool create = false) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* name : kColumnFamilies)
      descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    rocksdb::Options opts = db_options(create);
    rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(opts, path, descs, &cf, &raw)
                                  : rocksdb::DB::Open(opts, path, descs, &cf, &raw);
    check(s, "cannot open store '" + path + "'");
    db.reset(raw);
    this->read_only = read_only;
  }

  // The current version and ID length of `map`; throws kNotFound if there is no such map.
  MapKey map_key(const std::string& map) {
    if (read_only) {
      std::lock_guard<std::mutex> lock(map_keys_mutex);
      if (auto it = map_keys.find(map); it != map_keys.end()) return it->second;
    }
    auto v = get(kMeta, kMapPrefix + map);
    if (!v) RECSYS_THROW(ErrorCode::kNotFound, "no ID map named '", map, "'");
    const MapInfo info = map_info_from_json(map, *v);
    const MapKey key{info.version, info.vocab.size()};
    if (read_only) {
      std::lock_guard<std::mutex> lock(map_keys_mutex);
      map_keys.emplace(map, key);  // only maps that exist: bounded by the store's maps
    }
    return key;
  }

  std::optional<std::string> get(Cf c, const rocksdb::Slice& key) const {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf[c], key, &value);
    if (s.IsNotFound()) return std::nullopt;
    check(s, "store read failed");
    return value;
  }

  void write(rocksdb::WriteBatch& batch, bool sync) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    check(db->Write(wo, &batch), "store write failed");
    batch.Clear();
  }
};

Store::Store(std::string path, Mode mode)
    : path_(std::move(path)), mode_(mode), impl_(std::make_unique<Impl>()) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::open(const std::string& path, Mode mode) {
  if (!fs::exists(fs::path(path) / "CURRENT"))
    RECSYS_THROW(ErrorCode::kNotFound, "no store at '", path,
                 "' (create one with: recsys data prepare --store ", path, " ...)");
  if (const std::string missing = missing_column_families(path); !missing.empty())
    RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path,
                 "' is not a recsys store: it lacks the column families ", missing);
  std::unique_ptr<Store> store(new Store(path, mode));
  store->impl_->open(path, mode == Mode::kReadOnly);
  auto version = store->impl_->get(kMeta, kVersionKey);
  if (!version || !store->impl_->get(kMeta, kCompleteKey))
    RECSYS_THROW(ErrorCode::kCorruption, "store '", path,
                 "' is incomplete (its ingest did not finish); run recsys data prepare again");
  if (*version != std::to_string(kFormatVersion))
    RECSYS_THROW(ErrorCode::kUnsupported, "store '", path, "' has format version ", *version,
                 ", this build reads version ", kFormatVersion);
  return store;
}

void Store::check_writable(const std::string& path, bool overwrite) {
  const fs::path target = store_dir(path);
  if (!fs::exists(target)) return;
  if (!overwrite)
    RECSYS_THROW(ErrorCode::kInvalidArgument, "store '", path,
                 "' already exists (pass --overwrite to replace it)");
  // A store, complete or not and of any format version, is a RocksDB directory with this
  // build's column families.
  if (!fs::is_directory(target) || !fs::exists(target / "CURRENT") ||
      !missing_column_families(target).empty())
    RECSYS_THROW(ErrorCode::kInvalidArgument, "'", path,
                 "' exists and is not a recsys store: --overwrite replaces only a store (move or "
                 "remove it yourself)");
  // A process with the store open for writing (recsys index storing a map) holds RocksDB's lock
  // on it; replacing the directory under that process would lose what it writes.
  std::string why;
  if (locked_by_a_writer(target, &why))
    RECSYS_THROW(ErrorCode::kInvalidArgument, "store '", path, "' is open for writing elsewhere (",
                 why, "): let it finish before replacing the store");
}

void Store::write_dataset(const std::string& path, const Dataset& dataset,
                          const std::string& config_json, bool overwrite,
                          int64_t fail_after_items) {
  const fs::path target = store_dir(path);
  check_writable(path, overwrite);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  remove_abandoned_staging(target);
  const fs::path staging = target.string() + ".staging-" + std::to_string(::getpid());
  fs::remove_all(staging);
  {
    Impl impl;
    impl.open(staging.string(), /*read_only=*/false, /*create=*/true);
    rocksdb::WriteBatch batch;
    std::string key;
    const auto& items = dataset.items;
    try {
      for (size_t i = 0; i < items.size(); ++i) {
        if (fail_after_items >= 0 && int64_t(i) == fail_after_items)
          RECSYS_THROW(ErrorCode::kIOError, "simulated failure after ", i, " items");
        key = index_key(uint32_t(i));
        batch.Put(impl.cf[kItems], key, encode_item(items[i]));
        batch.Put(impl.cf[kItemKeys], items[i].external_id, key);
        if (batch.Count() >= 20000) impl.write(batch, false);
      }
      for (size_t u = 0; u < dataset.users.size(); ++u) {
        key = index_key(uint32_t(u));
        batch.Put(impl.cf[kUsers], key, encode_user(dataset.users[u]));
        batch.Put(impl.cf[kUserKeys], dataset.users[u].external_id, key);
        if (batch.Count() >= 20000) impl.write(batch, false);
      }
      batch.Put(impl.cf[kMeta], kVersionKey, std::to_string(kFormatVersion));
      batch.Put(impl.cf[kMeta], kStatsKey, stats_to_json(dataset.stats).dump());
      batch.Put(impl.cf[kMeta], kNameKey, dataset.name);
      batch.Put(impl.cf[kMeta], kIngestConfigKey, config_json);
      impl.write(batch, false);
      // The marker goes last, in its own write, and one synced write makes it durable: the WAL
      // is append-only, so a crash that keeps the marker keeps everything written before it.
      batch.Put(impl.cf[kMeta], kCompleteKey, "1");
      impl.write(batch, true);
    } catch (...) {
      impl.close();
      fs::remove_all(staging);
      throw;
    }
  }
  // Swap the staged store into place.
  if (fs::exists(target)) {
    const fs::path old = target.string() + ".old-" + std::to_string(::getpid());
    fs::remove_all(old);
    fs::rename(target, old);
    fs::rename(staging, target);
    fs::remove_all(old);
  } else {
    fs::rename(staging, target);
  }
}

DatasetStats Store::stats() const {
  auto v = impl_->get(kMeta, kStatsKey);
  if (!v) RECSYS_THROW(ErrorCode::kCorruption, "store '", path_, "' has no statistics");
  try {
    return stats_from_json(json::parse(*v));
  } catch (const json::exception& e) {
    RECSYS_THROW(ErrorCode::kCorruption, "store '", path_, "' has bad statistics (", e.what(), ")");
  }
}

std::string Store::dataset_name() const { return impl_->get(kMeta, kNameKey).value_or(""); }
std::string Store::ingest_config_json() const {
  return impl_->get(kMeta, kIngestConfigKey).value_or("{}");
}

std::optional<ItemRecord> Store::get_item(ItemIndex index) const {
  auto v = impl_->get(kItems, index_key(index));
  if (!v) return std::nullopt;
  return decode_item(*v);
}

std::optional<ItemIndex> Store::find_item(const std::string& external_id) const {
  auto v = impl_->get(kItemKeys, external_id);
  if (!v) return std::nullopt;
  return get_index(*v, "item key");
}

std::vector<std::optional<std::pair<ItemIndex, ItemRecord>>> Store::get_items_by_key(
    const std::vector<std::string>& external_ids) const {
  const size_t n = external_ids.size();
  std::vector<std::optional<std::pair<ItemIndex, ItemRecord>>> out(n);
  if (n == 0) return out;
  std::vector<rocksdb::Slice> keys(external_ids.begin(), external_ids.end());
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->cf[kItemKeys], n, keys.data(), values.data(),
                      statuses.data());
  std::vector<std::string> index_keys;
  std::vector<size_t> positions;
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) continue;
    check(statuses[i], "store read failed");
    if (values[i].size() != 4) RECSYS_THROW(ErrorCode::kCorruption, "bad item key record");
    index_keys.emplace_back(values[i].data(), 4);
    positions.push_back(i);
  }
  const size_t m = index_keys.size();
  if (m == 0) return out;
  std::vector<rocksdb::Slice> ikeys(index_keys.begin(), index_keys.end());
  std::vector<rocksdb::PinnableSlice> ivalues(m);
  std::vector<rocksdb::Status> istatuses(m);
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->cf[kItems], m, ikeys.data(), ivalues.data(),
                      istatuses.data());
  for (size_t j = 0; j < m; ++j) {
    check(istatuses[j], "store read failed (item record missing for a known key)");
    out[positions[j]].emplace(get_be32(index_keys[j].data()),
                              decode_item(std::string_view(ivalues[j].data(), ivalues[j].size())));
  }
  return out;
}

std::optional<UserRecord> Store::get_user(UserIndex index) const {
  auto v = impl_->get(kUsers, index_key(index));
  if (!v) return std::nullopt;
  return decode_user(*v);
}

std::optional<UserIndex> Store::find_user(const std::string& external_id) const {
  auto v = impl_->get(kUserKeys, external_id);
  if (!v) return std::nullopt;
  return get_index(*v, "user key");
}

Dataset Store::load_dataset() const {
  Dataset d;
  d.name = dataset_name();
  d.stats = stats();
  d.items.reserve(d.stats.num_items);
  d.users.reserve(d.stats.num_users);
  {
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[kItems]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (get_index(std::string_view(it->key().data(), it->key().size()), "item key") !=
          d.items.size())
        RECSYS_THROW(ErrorCode::kCorruption, "store items are not dense");
      d.items.push_back(decode_item(std::string_view(it->value().data(), it->value().size())));
    }
    check(it->status(), "store scan failed");
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(
        impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[kUsers]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      d.users.push_back(decode_user(std::string_view(it->value().data(), it->value().size())));
    check(it->status(), "store scan failed");
  }
  if (d.items.size() != d.stats.num_items || d.users.size() != d.stats.num_users)
    RECSYS_THROW(ErrorCode::kCorruption, "store '", path_, "' holds ", d.items.size(),
                 " items and ", d.users.size(), " users, its statistics say ", d.stats.num_items,
                 " and ", d.stats.num_users);
  return d;
}

// ---------------------------------------------------------------- semantic-ID maps

void Store::write_id_map(const IdMap& map, int64_t fail_after_items) {
  RECSYS_CHECK(mode_ == Mode::kReadWrite, "store '", path_, "' is open read-only");
  check_map_name(map.name);
  map.validate();
  const DatasetStats st = stats();
  RECSYS_CHECK(map.num_items() == st.num_items, "ID map '", map.name, "' covers ", map.num_items(),
               " items, the store has ", st.num_items);
  const auto previous = map_info(map.name);
  // Versions only grow, through a counter synced before any row of its version is written (with
  // a delete of whatever `version` might hold, which is nothing unless the counter was lost).
  uint32_t version = previous ? previous->version + 1 : 1;
  if (auto last = impl_->get(kMeta, std::string("map_version_counter/") + map.name))
    version = std::max<uint32_t>(version, uint32_t(std::stoul(*last)) + 1);
  const std::string prefix = map_key_prefix(map.name, version);
  std::string prefix_end = map_key_prefix(map.name, version + 1);
  {
    rocksdb::WriteBatch batch;
    batch.DeleteRange(impl_->cf[kSid], prefix, prefix_end);
    batch.DeleteRange(impl_->cf[kSidRev], prefix, prefix_end);
    batch.Put(impl_->cf[kMeta], std::string("map_version_counter/") + map.name,
              std::to_string(version));
    impl_->write(batch, true);
  }
  rocksdb::WriteBatch batch;
  std::string key, value;
  for (size_t i = 0; i < map.ids.size(); ++i) {
    if (fail_after_items >= 0 && int64_t(i) == fail_after_items)
      RECSYS_THROW(ErrorCode::kIOError, "simulated failure after ", i, " items of map '", map.name,
                   "'");
    key = prefix;
    put_be32(key, uint32_t(i));
    value.clear();
    put_tokens(value, map.ids[i]);
    batch.Put(impl_->cf[kSid], key, value);
    key = prefix;
    key += value;
    batch.Put(impl_->cf[kSidRev], key, index_key(uint32_t(i)));
    if (batch.Count() >= 50000) impl_->write(batch, false);
  }
  json info = {{"method", map.method},      {"version", version},
               {"vocab", map.vocab},        {"num_items", map.num_items()},
               {"config", map.config_json}, {"report", map.report_json}};
  // The meta pointer flips in the same batch as the last rows, synced: the map becomes visible
  // all at once, only when complete.
  batch.Put(impl_->cf[kMeta], kMapPrefix + map.name, info.dump());
  impl_->write(batch, true);
  // Then every older version goes: the one it replaces and the rows of failed attempts, which
  // a crash after their first flush left behind.
  rocksdb::WriteBatch cleanup;
  const std::string first = map_key_prefix(map.name, 0);
  cleanup.DeleteRange(impl_->cf[kSid], first, prefix);
  cleanup.DeleteRange(impl_->cf[kSidRev], first, prefix);
  impl_->write(cleanup, false);
}

std::vector<MapInfo> Store::list_id_maps() const {
  std::vector<MapInfo> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[kMeta]));
  for (it->Seek(kMapPrefix); it->Valid() && it->key().starts_with(kMapPrefix); it->Next()) {
    const std::string name = it->key().ToString().substr(std::strlen(kMapPrefix));
    out.push_back(map_info_from_json(name, it->value().ToString()));
  }
  check(it->status(), "store scan failed");
  return out;
}

std::optional<MapInfo> Store::map_info(const std::string& name) const {
  auto v = impl_->get(kMeta, kMapPrefix + name);
  if (!v) return std::nullopt;
  return map_info_from_json(name, *v);
}

std::optional<IdMap> Store::load_id_map(const std::string& name) const {
  const auto info = map_info(name);
  if (!info) return std::nullopt;
  IdMap map;
  map.name = name;
  map.method = info->method;
  map.vocab = info->vocab;
  map.config_json = info->config_json;
  map.report_json = info->report_json;
  map.ids.reserve(info->num_items);
  const std::string prefix = map_key_prefix(name, info->version);
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[kSid]));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 4 ||
        get_be32(it->key().data() + prefix.size()) != map.ids.size())
      RECSYS_THROW(ErrorCode::kCorruption, "ID map '", name, "' is not dense");
    map.ids.push_back(get_tokens(std::string_view(it->value().data(), it->value().size())));
  }
  check(it->status(), "store scan failed");
  if (map.ids.size() != info->num_items)
    RECSYS_THROW(ErrorCode::kCorruption, "ID map '", name, "' has ", map.ids.size(),
                 " items, its header says ", info->num_items);
  return map;
}

std::optional<SemanticId> Store::semantic_id(const std::string& map, ItemIndex item) const {
  const Impl::MapKey info = impl_->map_key(map);
  std::string key = map_key_prefix(map, info.version);
  put_be32(key, item);
  auto v = impl_->get(kSid, key);
  if (!v) return std::nullopt;
  return get_tokens(*v);
}

std::optional<ItemIndex> Store::item_by_semantic_id(const std::string& map,
                                                    const SemanticId& id) const {
  const Impl::MapKey info = impl_->map_key(map);
  if (id.size() != info.length) return std::nullopt;
  std::string key = map_key_prefix(map, info.version);
  put_tokens(key, id);
  auto v = impl_->get(kSidRev, key);
  if (!v) return std::nullopt;
  return get_index(*v, "semantic ID");
}

std::vector<std::pair<SemanticId, ItemIndex>> Store::items_by_prefix(
    const std::string& map, const SemanticId& prefix, size_t limit,
    const std::optional<SemanticId>& after) const {
  const Impl::MapKey info = impl_->map_key(map);
  std::vector<std::pair<SemanticId, ItemIndex>> out;
  if (prefix.size() > info.length) return out;
  const std::string base = map_key_prefix(map, info.version);
  std::string seek = base;
  put_tokens(seek, prefix);
  const std::string scan_prefix = seek;
  if (after) {
    seek = base;
    put_tokens(seek, *after);
    if (seek < scan_prefix) seek = scan_prefix;
  }
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cf[kSidRev]));
  for (it->Seek(seek); it->Valid() && it->key().starts_with(scan_prefix) && out.size() < limit;
       it->Next()) {
    SemanticId id = get_tokens(
        std::string_view(it->key().data() + base.size(), it->key().size() - base.size()));
    if (after && id == *after) continue;
    out.emplace_back(
        std::move(id),
        get_index(std::string_view(it->value().data(), it->value().size()), "semantic ID"));
  }
  check(it->status(), "store scan failed");
  return out;
}

}  // namespace recsys::storage
