#include "datasets/prepare.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "datasets/text_template.h"
#include "recsys/error.h"
#include "storage/store.h"
#include "tests/data/test_files.h"

namespace recsys::data {
namespace {

using testing::fixture;
using testing::TempDir;

PrepareOptions options_for(const std::string& dir) {
  PrepareOptions o;
  o.input = fixture(dir);
  return o;
}

std::vector<std::string> history(const Dataset& d, size_t user) {
  std::vector<std::string> out;
  for (ItemIndex i : d.users[user].items) out.push_back(d.items[i].external_id);
  return out;
}

// Prepares a dataset from files written for the test (name -> contents) with default options.
Dataset prepare_files(const std::map<std::string, std::string>& files) {
  TempDir dir;
  for (const auto& [name, contents] : files) dir.write(name, contents);
  PrepareOptions o;
  o.input = dir.root();
  return prepare_dataset(o);
}

TEST(PrepareTest, StableChronologicalOrderKeepsFileOrderOnTies) {
  const Dataset d = prepare_dataset(options_for("amazon2014"));
  ASSERT_EQ(d.users.size(), 3u);
  EXPECT_EQ(d.users[0].external_id, "U1");
  EXPECT_EQ(history(d, 0), (std::vector<std::string>{"I2", "I1", "I3"}));
  EXPECT_EQ(history(d, 1), (std::vector<std::string>{"I3", "I2", "I1"}));
  EXPECT_EQ(d.users[0].timestamps, (std::vector<int64_t>{1200000000, 1300000000, 1300000000}));
  // Item indices follow first appearance in the ordered histories.
  EXPECT_EQ(d.items[0].external_id, "I2");
  EXPECT_EQ(d.items[1].external_id, "I1");
  EXPECT_EQ(d.stats.num_items, 4u);
  EXPECT_EQ(d.stats.num_interactions, 7u);
  EXPECT_EQ(d.stats.items_without_metadata, 1u);  // I4 has no metadata; I9 has no reviews
  EXPECT_EQ(d.items[3].text, "");
  EXPECT_EQ(d.name, "amazon2014");
}

// 2023 dumps stamp reviews in milliseconds: within one second they still order by time.
TEST(PrepareTest, MillisecondsOrderReviewsWithinASecond) {
  const Dataset d = prepare_files(
      {{"Ms.jsonl",
        "{\"user_id\": \"U1\", \"parent_asin\": \"A\", \"timestamp\": 1588687728923}\n"
        "{\"user_id\": \"U1\", \"parent_asin\": \"B\", \"timestamp\": 1588687728100}\n"
        "{\"user_id\": \"U1\", \"parent_asin\": \"C\", \"timestamp\": 1588687729000}\n"},
       {"meta_Ms.jsonl", "{\"parent_asin\": \"A\", \"title\": \"a\"}\n"}});
  EXPECT_EQ(history(d, 0), (std::vector<std::string>{"B", "A", "C"}));
  EXPECT_EQ(d.users[0].timestamps, (std::vector<int64_t>{1588687728, 1588687728, 1588687729}));
}

// A (user, item) pair reviewed twice stays in the history, and the ingest says how many there are.
TEST(PrepareTest, RepeatedInteractionsAreKeptAndCounted) {
  ::testing::internal::CaptureStderr();
  const Dataset d =
      prepare_files({{"reviews_Rep_5.json",
                      "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1}\n"
                      "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1}\n"
                      "{\"reviewerID\": \"U1\", \"asin\": \"I2\", \"unixReviewTime\": 2}\n"
                      "{\"reviewerID\": \"U2\", \"asin\": \"I2\", \"unixReviewTime\": 3}\n"},
                     {"meta_Rep.json", "{'asin': 'I1', 'title': 'a'}\n"}});
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(history(d, 0), (std::vector<std::string>{"I1", "I1", "I2"}));
  EXPECT_NE(err.find("1 interaction(s) repeat a (user, item) pair"), std::string::npos) << err;
}

TEST(PrepareTest, LeaveOneOutSplitSizes) {
  const Dataset d = prepare_dataset(options_for("amazon2014"));
  EXPECT_EQ(d.stats.split.train_interactions, 1u + 1u + 1u);
  EXPECT_EQ(d.stats.split.valid_users, 2u);
  EXPECT_EQ(d.stats.split.test_users, 2u);
}

TEST(PrepareTest, KCoreAndRatingThreshold) {
  PrepareOptions o = options_for("amazon2014");
  o.kcore = 2;
  Dataset d = prepare_dataset(o);
  EXPECT_EQ(d.stats.num_users, 2u);
  EXPECT_EQ(d.stats.num_items, 3u);
  o.kcore = 3;
  EXPECT_THROW(prepare_dataset(o), Error);
  o.kcore = 0;
  o.min_rating = 3;
  d = prepare_dataset(o);
  EXPECT_EQ(d.stats.num_interactions, 5u);  // drops U2-I2 (2.0) and U3-I4 (1.0); unrated stay
  EXPECT_EQ(history(d, 1), (std::vector<std::string>{"I3", "I1"}));
}

TEST(PrepareTest, KCoreIteratesToAFixedPoint) {
  // u0: {0,1}, u1: {0,1}, u2: {1,2}: k=2 drops item 2 (1 user), then u2 has 1 item and goes,
  // leaving item 1 with 2 users: the fixed point keeps u0, u1 x items 0, 1.
  const std::vector<uint32_t> users{0, 0, 1, 1, 2, 2};
  const std::vector<uint32_t> items{0, 1, 0, 1, 1, 2};
  const auto keep = kcore_mask(users, items, 3, 3, 2);
  EXPECT_EQ(keep, (std::vector<bool>{true, true, true, true, false, false}));
  // A cascade: removing one weak item breaks a chain of users.
  const std::vector<uint32_t> cu{0, 0, 1, 1, 2, 2};
  const std::vector<uint32_t> ci{0, 1, 1, 2, 2, 3};
  const auto all_gone = kcore_mask(cu, ci, 3, 4, 2);
  EXPECT_EQ(std::count(all_gone.begin(), all_gone.end(), true), 0);
}

TEST(PrepareTest, MaxHistoryKeepsMostRecent) {
  PrepareOptions o = options_for("amazon2014");
  o.max_history = 2;
  const Dataset d = prepare_dataset(o);
  EXPECT_EQ(history(d, 0), (std::vector<std::string>{"I1", "I3"}));
}

TEST(PrepareTest, TextTemplateOrderAndCategoryFlattening) {
  PrepareOptions o = options_for("amazon2014");
  o.text_fields = "title,categories";
  const Dataset d = prepare_dataset(o);
  EXPECT_EQ(d.items[1].text, "OPI Nail Lacquer, \"Simmer\" and Shimmer. Beauty, Makeup, Nails");
  o.text_fields = "title,colour";
  EXPECT_THROW(prepare_dataset(o), Error);
  EXPECT_EQ(clean_text("  a&amp;b &#x41;&#66; &quot;x&quot;\n\t y &bogus; "),
            "a&b AB \"x\" y &bogus;");
  // Entities that Beauty's and Office's item texts use, beyond the few decoded before.
  EXPECT_EQ(clean_text("Cr&egrave;me &bull; 1&frac12; oz &times;2 &Eacute;t&eacute; &dagger;"),
            "Cr\u00e8me \u2022 1\u00bd oz \u00d72 \u00c9t\u00e9 \u2020");
  EXPECT_EQ(clean_text("&EGRAVE; &thetasym; &nbsp;&apos;"), "&EGRAVE; \u03d1 '");
}

TEST(PrepareTest, DetectsEveryFormat) {
  EXPECT_EQ(resolve_sources(options_for("amazon2014")).format, "amazon2014");
  EXPECT_EQ(resolve_sources(options_for("amazon2018")).format, "amazon2018");
  EXPECT_EQ(resolve_sources(options_for("amazon2023")).format, "amazon2023");
  EXPECT_EQ(resolve_sources(options_for("recbole")).format, "recbole");
  EXPECT_EQ(resolve_sources(options_for("movielens")).format, "movielens");
  for (const char* dir : {"amazon2018", "amazon2023", "recbole", "movielens"}) {
    const Dataset d = prepare_dataset(options_for(dir));
    EXPECT_GT(d.stats.num_interactions, 0u) << dir;
    EXPECT_EQ(d.stats.items_without_metadata, 0u) << dir;
  }
  const Dataset a23 = prepare_dataset(options_for("amazon2023"));
  EXPECT_EQ(history(a23, 0), (std::vector<std::string>{"PA1", "PA2"}));
}

TEST(PrepareTest, UnknownFormatAndMissingInputAreClearErrors) {
  TempDir dir;
  dir.write("notes.txt", "hello\n");
  PrepareOptions o;
  o.input = dir.root();
  try {
    prepare_dataset(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("cannot tell the format"), std::string::npos);
  }
  o.input = "no-such-dataset";
  o.data_dirs = dir.root();
  try {
    prepare_dataset(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
  o.input = "x";
  o.format = "csv";
  EXPECT_THROW(prepare_dataset(o), Error);
}

TEST(PrepareTest, FindsDatasetByNameUnderDataDirs) {
  PrepareOptions o;
  o.input = "movielens";
  o.data_dirs = std::string("/nonexistent:") + RECSYS_FIXTURES_DIR;
  EXPECT_EQ(prepare_dataset(o).stats.num_users, 2u);
}

TEST(PrepareTest, FailedIngestLeavesNoStore) {
  TempDir dir;
  const Dataset d = prepare_dataset(options_for("amazon2014"));
  const std::string path = dir.path("store");
  EXPECT_THROW(storage::Store::write_dataset(path, d, "{}", false, 2), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  storage::Store::write_dataset(path, d, "{}", false);
  auto store = storage::Store::open(path);
  EXPECT_EQ(store->stats().num_interactions, 7u);
  EXPECT_EQ(store->load_dataset().users[1].items, d.users[1].items);
}

// Real data from ../shared: the published 5-core figures.
TEST(RealDataTest, AmazonBeautyAndOfficeMatchPublishedCounts) {
  const std::string root = std::string(RECSYS_SHARED_DIR) + "/datasets";
  if (!std::filesystem::exists(root + "/amazon2014-beauty"))
    GTEST_SKIP() << "no ../shared/datasets here";
  PrepareOptions o;
  o.input = root + "/amazon2014-beauty";
  Dataset d = prepare_dataset(o);
  EXPECT_EQ(d.stats.num_users, 22363u);
  EXPECT_EQ(d.stats.num_items, 12101u);
  EXPECT_EQ(d.stats.num_interactions, 198502u);
  EXPECT_EQ(d.stats.items_without_metadata, 0u);
  o.kcore = 5;  // already 5-core: the filter is a no-op
  EXPECT_EQ(prepare_dataset(o).stats.num_interactions, 198502u);
  o.input = root + "/amazon2014-office";
  o.kcore = 0;
  d = prepare_dataset(o);
  EXPECT_EQ(d.stats.num_users, 4905u);
  EXPECT_EQ(d.stats.num_items, 2420u);
  EXPECT_EQ(d.stats.num_interactions, 53258u);
}

}  // namespace
}  // namespace recsys::data
