#include "storage/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "recsys/error.h"
#include "storage/internal/codec.h"

namespace recsys::storage {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("recsys_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "store").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Dataset make_dataset(size_t num_items = 5) {
    Dataset d;
    d.name = "tiny";
    for (size_t i = 0; i < num_items; ++i) {
      ItemRecord it;
      it.external_id = "A" + std::to_string(i);
      it.title = "Item \"" + std::to_string(i) + "\" \xc3\xa9";
      it.categories = {{"Beauty", "Makeup"}, {"Beauty", "Nails", "Polish"}};
      it.text = "text " + std::to_string(i);
      d.items.push_back(it);
    }
    d.users.push_back({"u1", {0, 1, 2}, {10, 20, 30}});
    d.users.push_back({"u2", {3, 4, 0, 1}, {5, 5, 6, 7}});
    d.finalize_stats();
    return d;
  }

  static IdMap make_map(const std::string& name, Token first) {
    IdMap m;
    m.name = name;
    m.method = "test";
    m.vocab = {8, 8, 4};
    for (Token i = 0; i < 5; ++i) m.ids.push_back({Token(first + i / 2), Token(i % 2), 0});
    return m;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(StoreTest, DatasetRoundTrip) {
  const Dataset d = make_dataset();
  Store::write_dataset(path_, d, "{\"k\":1}", false);
  auto store = Store::open(path_);
  EXPECT_EQ(store->stats().num_items, 5u);
  EXPECT_EQ(store->stats().num_users, 2u);
  EXPECT_EQ(store->stats().num_interactions, 7u);
  EXPECT_EQ(store->dataset_name(), "tiny");
  EXPECT_EQ(store->ingest_config_json(), "{\"k\":1}");
  auto item = store->get_item(3);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->external_id, "A3");
  EXPECT_EQ(item->title, d.items[3].title);
  EXPECT_EQ(item->categories, d.items[3].categories);
  EXPECT_EQ(store->find_item("A4"), std::optional<ItemIndex>(4));
  EXPECT_FALSE(store->find_item("nope"));
  EXPECT_FALSE(store->get_item(99));
  auto user = store->get_user(1);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->items, d.users[1].items);
  EXPECT_EQ(user->timestamps, d.users[1].timestamps);
  EXPECT_EQ(store->find_user("u2"), std::optional<UserIndex>(1));
  const Dataset back = store->load_dataset();
  ASSERT_EQ(back.items.size(), 5u);
  EXPECT_EQ(back.items[2].text, "text 2");
  EXPECT_EQ(back.users[0].items, d.users[0].items);
  auto batch = store->get_items_by_key({"A1", "missing", "A0"});
  ASSERT_EQ(batch.size(), 3u);
  ASSERT_TRUE(batch[0]);
  EXPECT_EQ(batch[0]->first, 1u);
  EXPECT_FALSE(batch[1]);
  EXPECT_EQ(batch[2]->second.external_id, "A0");
}

TEST_F(StoreTest, RefusesToOverwriteUnlessAsked) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  EXPECT_THROW(Store::write_dataset(path_, make_dataset(3), "{}", false), Error);
  Store::write_dataset(path_, make_dataset(3), "{}", true);
  EXPECT_EQ(Store::open(path_)->stats().num_items, 3u);
}

TEST_F(StoreTest, MissingStoreIsNotFound) {
  try {
    Store::open(path_);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
}

TEST_F(StoreTest, InterruptedIngestLeavesNoCompleteStore) {
  EXPECT_THROW(Store::write_dataset(path_, make_dataset(), "{}", false, /*fail_after=*/3), Error);
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_THROW(Store::open(path_), Error);
  // No staging leftovers either.
  for (const auto& e : fs::directory_iterator(dir_)) ADD_FAILURE() << "leftover " << e.path();
  // An interrupted re-ingest keeps the previous complete store intact.
  Store::write_dataset(path_, make_dataset(5), "{}", false);
  EXPECT_THROW(Store::write_dataset(path_, make_dataset(4), "{}", true, 2), Error);
  EXPECT_EQ(Store::open(path_)->stats().num_items, 5u);
}

// A store opened with RocksDB directly, every column family by name: tests forge and inspect
// what the Store API hides. A failed open fails the test and leaves `db` null.
struct RawDb {
  RawDb(const std::string& path, bool read_only) {
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    const rocksdb::Status s =
        read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, descs, &handles, &db)
                  : rocksdb::DB::Open(rocksdb::Options(), path, descs, &handles, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return handles[i];
    ADD_FAILURE() << "no column family " << name;
    return nullptr;
  }
  std::vector<std::string> names;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
};

// Rewrites one meta key with RocksDB directly, as a store from another build would have it.
void raw_meta_put(const std::string& path, const std::string& key, const std::string* value) {
  RawDb raw(path, /*read_only=*/false);
  ASSERT_NE(raw.db, nullptr);
  rocksdb::ColumnFamilyHandle* meta = raw.cf("meta");
  ASSERT_NE(meta, nullptr);
  if (value) {
    ASSERT_TRUE(raw.db->Put(rocksdb::WriteOptions(), meta, key, *value).ok());
  } else {
    ASSERT_TRUE(raw.db->Delete(rocksdb::WriteOptions(), meta, key).ok());
  }
}

// --overwrite replaces a store (even one of another format version), never another directory or
// file; the check comes before any work (Store::check_writable).
TEST_F(StoreTest, OverwriteReplacesOnlyAStore) {
  const fs::path other = dir_ / "not_a_store";
  fs::create_directories(other);
  std::ofstream(other / "keep.txt") << "mine";
  const fs::path file = dir_ / "file.txt";
  std::ofstream(file) << "mine too";
  for (const fs::path& p : {other, file}) {
    SCOPED_TRACE(p.string());
    try {
      Store::write_dataset(p.string(), make_dataset(), "{}", true);
      FAIL() << "replaced something that is not a store";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("is not a recsys store"), std::string::npos) << e.what();
    }
    EXPECT_THROW(Store::check_writable(p.string(), true), Error);
  }
  EXPECT_TRUE(fs::exists(other / "keep.txt"));
  EXPECT_TRUE(fs::exists(file));
  Store::check_writable((dir_ / "absent").string(), false);
  Store::write_dataset(path_, make_dataset(), "{}", false);
  const std::string v99 = "99";
  raw_meta_put(path_, "format_version", &v99);
  Store::write_dataset(path_, make_dataset(4), "{}", true);
  EXPECT_EQ(Store::open(path_)->stats().num_items, 4u);
}

// A store another writer has open (recsys index storing a map) is not replaced under it; one
// opened for reading only is.
TEST_F(StoreTest, OverwriteWaitsForTheWriter) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  {
    auto writer = Store::open(path_, Store::Mode::kReadWrite);
    try {
      Store::write_dataset(path_, make_dataset(3), "{}", true);
      FAIL() << "replaced a store open for writing";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is open for writing elsewhere"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(writer->stats().num_items, 5u);
  }
  auto reader = Store::open(path_);
  Store::write_dataset(path_, make_dataset(3), "{}", true);
  EXPECT_EQ(Store::open(path_)->stats().num_items, 3u);
}

// A `data prepare` killed before its rename leaves "<store>.staging-<pid>"; the next one removes
// it, but never one that a live ingest is writing (RocksDB's lock is held).
TEST_F(StoreTest, NextIngestRemovesAbandonedStaging) {
  const fs::path abandoned = path_ + ".staging-999999999";
  const fs::path live = path_ + ".staging-1";
  fs::create_directories(abandoned);
  std::ofstream(abandoned / "000001.log") << "partial";
  fs::create_directories(live);
  rocksdb::FileLock* lock = nullptr;
  ASSERT_TRUE(rocksdb::Env::Default()->LockFile((live / "LOCK").string(), &lock).ok());
  const fs::path other = dir_ / "store.staging-x";  // not a pid: someone else's
  fs::create_directories(other);
  Store::write_dataset(path_, make_dataset(), "{}", false);
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(Store::open(path_)->stats().num_items, 5u);
  rocksdb::Env::Default()->UnlockFile(lock);
}

// Opening another RocksDB database as a store fails without adding the store's column families.
TEST_F(StoreTest, OpeningAnotherDatabaseLeavesItAlone) {
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path_, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
    delete db;
  }
  for (auto mode : {Store::Mode::kReadOnly, Store::Mode::kReadWrite}) {
    try {
      Store::open(path_, mode);
      FAIL() << "opened a foreign database";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("is not a recsys store"), std::string::npos) << e.what();
    }
  }
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"default"});
}

// "out/store/" names the store "out/store": written there, found there, replaced there.
TEST_F(StoreTest, TrailingSlashNamesTheSameStore) {
  Store::write_dataset(path_ + "/", make_dataset(), "{}", false);
  EXPECT_EQ(Store::open(path_)->stats().num_items, 5u);
  EXPECT_THROW(Store::write_dataset(path_ + "/", make_dataset(3), "{}", false), Error);
  Store::write_dataset(path_ + "/", make_dataset(3), "{}", true);
  EXPECT_EQ(Store::open(path_ + "/")->stats().num_items, 3u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST(StoreMapNameTest, NamesAreCheckedUpFront) {
  Store::check_map_name("rk_collab-1.2");
  EXPECT_THROW(Store::check_map_name("my map"), Error);
  EXPECT_THROW(Store::check_map_name(""), Error);
  EXPECT_THROW(Store::check_map_name(std::string(65, 'a')), Error);
}

TEST_F(StoreTest, RejectsUnknownFormatVersion) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  const std::string v99 = "99";
  raw_meta_put(path_, "format_version", &v99);
  try {
    Store::open(path_);
    FAIL() << "opened a store of an unknown format version";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("format version 99"), std::string::npos) << e.what();
  }
}

TEST_F(StoreTest, RejectsStoreWithoutCompleteMarker) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  raw_meta_put(path_, "complete", nullptr);
  try {
    Store::open(path_);
    FAIL() << "opened an incomplete store";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  }
}

// Damaged records are kCorruption naming the store, not a JSON or out-of-bounds error.
TEST_F(StoreTest, DamagedRecordsAreCorruption) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  const std::string no_users = R"({"num_items": 5})";
  raw_meta_put(path_, "stats", &no_users);
  try {
    Store::open(path_)->stats();
    FAIL() << "read statistics without num_users";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("has bad statistics"), std::string::npos) << e.what();
  }
  Store::write_dataset(path_, make_dataset(), "{}", true);
  {
    RawDb raw(path_, /*read_only=*/false);
    ASSERT_NE(raw.db, nullptr);
    ASSERT_TRUE(raw.db->Put(rocksdb::WriteOptions(), raw.cf("items"), "ab", "x").ok());
  }
  try {
    Store::open(path_)->load_dataset();
    FAIL() << "loaded an item under a 2-byte key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
  }
  EXPECT_THROW(internal::get_tokens(std::string("\x00\x01\x02", 3)), Error);
  EXPECT_EQ(internal::get_tokens(std::string("\x00\x01\x00\x02", 4)), (SemanticId{1, 2}));
}

TEST_F(StoreTest, IdMapRoundTripAndLookups) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  auto store = Store::open(path_, Store::Mode::kReadWrite);
  IdMap m = make_map("rk", 2);
  m.report_json = "{\"ami\":0.5}";
  store->write_id_map(m);
  auto back = store->load_id_map("rk");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ids, m.ids);
  EXPECT_EQ(back->vocab, m.vocab);
  EXPECT_EQ(back->report_json, m.report_json);
  EXPECT_EQ(store->semantic_id("rk", 3), std::optional<SemanticId>(m.ids[3]));
  EXPECT_EQ(store->item_by_semantic_id("rk", m.ids[4]), std::optional<ItemIndex>(4));
  EXPECT_FALSE(store->item_by_semantic_id("rk", {7, 7, 3}));
  EXPECT_FALSE(store->item_by_semantic_id("rk", {2}));
  EXPECT_THROW(store->semantic_id("absent", 0), Error);
  // Prefix 2 holds items 0 and 1 (ids 2-0-0, 2-1-0); prefix 3 holds 2 and 3.
  auto p = store->items_by_prefix("rk", {3}, 10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].second, 2u);
  EXPECT_EQ(p[1].second, 3u);
  EXPECT_EQ(store->items_by_prefix("rk", {}, 100).size(), 5u);
  EXPECT_EQ(store->items_by_prefix("rk", {3, 1}, 10).size(), 1u);
  EXPECT_TRUE(store->items_by_prefix("rk", {9}, 10).empty());
  // Paging with a cursor visits every item exactly once, in token order.
  std::vector<ItemIndex> seen;
  std::optional<SemanticId> cursor;
  for (;;) {
    auto page = store->items_by_prefix("rk", {}, 2, cursor);
    if (page.empty()) break;
    for (auto& [id, item] : page) seen.push_back(item);
    cursor = page.back().first;
  }
  EXPECT_EQ(seen, (std::vector<ItemIndex>{0, 1, 2, 3, 4}));
}

TEST_F(StoreTest, SeveralMapsSideBySideAndNewVersionReplacesOld) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  auto store = Store::open(path_, Store::Mode::kReadWrite);
  store->write_id_map(make_map("a", 0));
  store->write_id_map(make_map("b", 4));
  EXPECT_EQ(store->list_id_maps().size(), 2u);
  store->write_id_map(make_map("a", 1));
  EXPECT_EQ(store->map_info("a")->version, 2u);
  EXPECT_EQ(store->load_id_map("a")->ids[0], (SemanticId{1, 0, 0}));
  EXPECT_EQ(store->load_id_map("b")->ids[0], (SemanticId{4, 0, 0}));
  // The old version's reverse rows are gone: prefix 0 is empty in map a now.
  EXPECT_TRUE(store->items_by_prefix("a", {0}, 10).empty());
}

TEST_F(StoreTest, InterruptedMapWriteKeepsPreviousMapsAndHidesNewOne) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  auto store = Store::open(path_, Store::Mode::kReadWrite);
  store->write_id_map(make_map("a", 0));
  EXPECT_THROW(store->write_id_map(make_map("a", 3), /*fail_after=*/2), Error);
  EXPECT_THROW(store->write_id_map(make_map("fresh", 3), 2), Error);
  EXPECT_FALSE(store->map_info("fresh"));
  EXPECT_EQ(store->load_id_map("a")->ids, make_map("a", 0).ids);
  EXPECT_EQ(store->items_by_prefix("a", {}, 100).size(), 5u);
  // A retry after the crash succeeds and leaves no stale rows of the failed attempt.
  store->write_id_map(make_map("fresh", 3));
  EXPECT_EQ(store->items_by_prefix("fresh", {}, 100).size(), 5u);
}

// Keys in one column family of the store at `path`, read with RocksDB directly.
size_t raw_count(const std::string& path, const std::string& cf) {
  RawDb raw(path, /*read_only=*/true);
  rocksdb::ColumnFamilyHandle* handle = raw.db ? raw.cf(cf) : nullptr;
  if (!handle) return 0;
  size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), handle));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  EXPECT_TRUE(it->status().ok());
  return count;
}

// A map write that fails after its first flush (25,000 items) leaves rows under its version; the
// next successful write of the map removes them with the version it replaces.
TEST_F(StoreTest, MapRewritesLeaveNoRowsOfOtherVersions) {
  constexpr Token kItems = 30000;
  Store::write_dataset(path_, make_dataset(kItems), "{}", false);
  IdMap map;
  map.name = "big";
  map.method = "test";
  map.vocab = {128, 256};
  for (Token i = 0; i < kItems; ++i) map.ids.push_back({Token(i / 256), Token(i % 256)});
  {
    auto store = Store::open(path_, Store::Mode::kReadWrite);
    store->write_id_map(map);
    EXPECT_THROW(store->write_id_map(map, /*fail_after=*/28000), Error);
    store->write_id_map(map);
    EXPECT_EQ(store->map_info("big")->version, 3u);
    EXPECT_EQ(store->load_id_map("big")->ids, map.ids);
  }
  EXPECT_EQ(raw_count(path_, "sid"), size_t(kItems));
  EXPECT_EQ(raw_count(path_, "sid_rev"), size_t(kItems));
}

// A record whose counts promise more than its bytes hold is corruption, found before anything is
// allocated for it (a count of 2^32 - 1 would ask for gigabytes).
TEST(StoreCodecTest, CountsBeyondTheRecordAreCorruption) {
  using namespace internal;
  auto expect_corruption = [](auto decode, const std::string& bytes) {
    try {
      decode(bytes);
      ADD_FAILURE() << "decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
    }
  };
  std::string user;
  put_str(user, "u1");
  put_u32(user, 0xFFFFFFFFu);
  put_u32(user, 7);
  expect_corruption(decode_user, user);
  std::string item;
  for (int i = 0; i < 5; ++i) put_str(item, "x");  // id, title, brand, description, price
  std::string paths = item, path = item;
  put_u32(paths, 0xFFFFFFFFu);
  expect_corruption(decode_item, paths);
  put_u32(path, 1);
  put_u32(path, 0xFFFFFFFFu);
  expect_corruption(decode_item, path);
  // The counts of a real record pass.
  UserRecord u{"u2", {1, 2}, {10, 20}};
  EXPECT_EQ(decode_user(encode_user(u)).timestamps, u.timestamps);
  ItemRecord it;
  it.categories = {{"Beauty", "Nails"}, {}};
  EXPECT_EQ(decode_item(encode_item(it)).categories, it.categories);
}

TEST_F(StoreTest, WriteIdMapValidatesInput) {
  Store::write_dataset(path_, make_dataset(), "{}", false);
  auto store = Store::open(path_, Store::Mode::kReadWrite);
  IdMap dup = make_map("d", 0);
  dup.ids[1] = dup.ids[0];
  EXPECT_THROW(store->write_id_map(dup), Error);
  IdMap short_map = make_map("s", 0);
  short_map.ids.pop_back();
  EXPECT_THROW(store->write_id_map(short_map), Error);
  EXPECT_THROW(store->write_id_map(make_map("bad/name", 0)), Error);
  auto ro = Store::open(path_);
  EXPECT_THROW(ro->write_id_map(make_map("x", 0)), Error);
}

}  // namespace
}  // namespace recsys::storage
