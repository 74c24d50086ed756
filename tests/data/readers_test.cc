#include "datasets/readers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "datasets/line_reader.h"
#include "recsys/error.h"
#include "tests/data/test_files.h"

namespace recsys::data {
namespace {

using testing::fixture;
using testing::slurp;
using testing::TempDir;

// The error of reading `path` as reviews under the default (fail) policy; "" when it reads.
std::string reviews_error(const std::string& path) {
  try {
    RawCorpus c;
    read_amazon_reviews(path, {}, c);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AmazonReaderTest, Reads2014ReviewsWithFullAndReducedFields) {
  RawCorpus c;
  read_amazon_reviews(fixture("amazon2014/reviews_Fixture1_5.json"), {}, c);
  ASSERT_EQ(c.interactions.size(), 7u);
  EXPECT_EQ(c.interactions[0].user, "U1");
  EXPECT_EQ(c.interactions[0].item, "I1");
  EXPECT_EQ(c.interactions[0].timestamp, 1300000000);
  EXPECT_TRUE(c.interactions[0].has_rating);
  EXPECT_FLOAT_EQ(c.interactions[0].rating, 5.0f);
  EXPECT_FALSE(c.interactions[1].has_rating);
}

TEST(AmazonReaderTest, Reads2014PythonLiteralMeta) {
  RawCorpus c;
  read_amazon_meta(fixture("amazon2014/meta_Fixture1.json"), {}, c);
  ASSERT_EQ(c.meta.size(), 4u);
  const ItemRecord& i1 = c.meta.at("I1");
  EXPECT_EQ(i1.title, "OPI Nail Lacquer, \"Simmer\" and Shimmer");
  EXPECT_EQ(i1.price, "8.5");
  ASSERT_EQ(i1.categories.size(), 2u);
  EXPECT_EQ(i1.categories[0], (std::vector<std::string>{"Beauty", "Makeup", "Nails"}));
  const ItemRecord& i2 = c.meta.at("I2");
  EXPECT_EQ(i2.title, "L'Oreal Paris \"Elvive\" \\ back\\slash");
  EXPECT_EQ(i2.brand,
            "L'Or\xc3\xa9"
            "al");
  EXPECT_EQ(i2.description,
            "Line one line two & more \xe2\x80\x93 caf\xc3\xa9 \xf0\x9f\x98\x80 'q'");
  EXPECT_EQ(c.meta.at("I3").title, "Unicode prefix A");
  EXPECT_EQ(c.meta.at("I3").description, "");
}

TEST(AmazonReaderTest, Reads2018JsonMeta) {
  RawCorpus c;
  read_amazon_reviews(fixture("amazon2018/Fixture1_5.json"), {}, c);
  read_amazon_meta(fixture("amazon2018/meta_Fixture1.json"), {}, c);
  ASSERT_EQ(c.interactions.size(), 3u);
  EXPECT_EQ(c.interactions[1].item, "P2");
  const ItemRecord& p1 = c.meta.at("P1");
  EXPECT_EQ(p1.title, "Face Cream");
  EXPECT_EQ(p1.brand, "Acme");
  EXPECT_EQ(p1.description, "First part. Second & part.");
  EXPECT_EQ(p1.categories, (std::vector<std::vector<std::string>>{{"All Beauty", "Skin Care"}}));
  EXPECT_TRUE(c.meta.at("P2").categories.empty());
}

TEST(AmazonReaderTest, Reads2023JsonlWithParentAsinAndMilliseconds) {
  RawCorpus c;
  read_amazon_reviews(fixture("amazon2023/Fixture1.jsonl"), {}, c);
  read_amazon_meta(fixture("amazon2023/meta_Fixture1.jsonl"), {}, c);
  ASSERT_EQ(c.interactions.size(), 3u);
  EXPECT_EQ(c.interactions[0].user, "UA");
  EXPECT_EQ(c.interactions[0].item, "PA1");
  EXPECT_EQ(c.interactions[0].timestamp, 1588687728);
  const ItemRecord& pa1 = c.meta.at("PA1");
  EXPECT_EQ(pa1.brand, "BalmCo");
  EXPECT_EQ(pa1.price, "6.5");
  EXPECT_EQ(pa1.description, "Soft lips");
  EXPECT_EQ(pa1.categories, (std::vector<std::vector<std::string>>{{"Beauty", "Lip Care"}}));
  EXPECT_EQ(c.meta.at("PA2").categories, (std::vector<std::vector<std::string>>{{"All Beauty"}}));
}

TEST(AmazonReaderTest, GzipAndPlainGiveTheSameRecords) {
  TempDir dir;
  const std::string text = slurp(fixture("amazon2014/reviews_Fixture1_5.json"));
  RawCorpus plain, gz;
  read_amazon_reviews(fixture("amazon2014/reviews_Fixture1_5.json"), {}, plain);
  read_amazon_reviews(dir.write_gz("r.json.gz", text), {}, gz);
  ASSERT_EQ(plain.interactions.size(), gz.interactions.size());
  for (size_t i = 0; i < plain.interactions.size(); ++i)
    EXPECT_EQ(plain.interactions[i].item, gz.interactions[i].item);
}

// A named pipe (--reviews <(cat reviews.json.gz)) has no size up front; it reads like the file.
TEST(AmazonReaderTest, ReadsFromANamedPipe) {
  TempDir dir;
  const std::string text = slurp(fixture("amazon2014/reviews_Fixture1_5.json"));
  const std::string gz = slurp(dir.write_gz("r.json.gz", text));
  const std::string fifo = dir.path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << gz; });
  RawCorpus piped, plain;
  try {
    read_amazon_reviews(fifo, {}, piped);
  } catch (...) {
    writer.join();
    throw;
  }
  writer.join();
  read_amazon_reviews(fixture("amazon2014/reviews_Fixture1_5.json"), {}, plain);
  ASSERT_EQ(piped.interactions.size(), plain.interactions.size());
  ASSERT_GT(plain.interactions.size(), 0u);
  for (size_t i = 0; i < plain.interactions.size(); ++i)
    EXPECT_EQ(piped.interactions[i].item, plain.interactions[i].item);
}

TEST(AmazonReaderTest, TruncatedGzipIsAnErrorNamingTheFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "{\"reviewerID\": \"U" + std::to_string(i) + "\", \"asin\": \"I\", " +
            "\"unixReviewTime\": 1}\n";
  const std::string gz = slurp(dir.write_gz("full.json.gz", text));
  const std::string cut = dir.write("cut.json.gz", gz.substr(0, gz.size() / 2));
  try {
    TextFile f(cut);
    FAIL() << "accepted a truncated gzip file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("cut.json.gz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
}

TEST(AmazonReaderTest, MalformedRecordNamesFileAndLine) {
  TempDir dir;
  const std::string path =
      dir.write("r.json",
                "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1}\n"
                "{\"reviewerID\": \"U1\", \"asin\": \"I2\"}\n"
                "{\"reviewerID\": \"U2\", \"asin\": \"I2\", \"unixReviewTime\": 3}\n"
                "not json\n");
  const std::string msg = reviews_error(path);
  EXPECT_NE(msg.find("r.json:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unixReviewTime"), std::string::npos) << msg;
  RawCorpus c;
  read_amazon_reviews(path, {BadRecordPolicy::kSkip}, c);
  EXPECT_EQ(c.interactions.size(), 2u);
  EXPECT_EQ(c.skipped_records, 2u);
}

// A number given as text must be all number: "2013-05-01" is not the year 2013.
TEST(AmazonReaderTest, NumbersGivenAsTextMustBeWhole) {
  TempDir dir;
  const std::string path =
      dir.write("r.json",
                "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": \"1367366400\", "
                "\"overall\": \" 4.0 \"}\n"
                "{\"reviewerID\": \"U1\", \"asin\": \"I2\", \"unixReviewTime\": \"2013-05-01\"}\n"
                "{\"reviewerID\": \"U1\", \"asin\": \"I3\", \"unixReviewTime\": 2, \"overall\": "
                "\"5 stars\"}\n");
  const std::string msg = reviews_error(path);
  EXPECT_NE(msg.find("r.json:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2013-05-01"), std::string::npos) << msg;
  RawCorpus c;
  read_amazon_reviews(path, {BadRecordPolicy::kSkip}, c);
  ASSERT_EQ(c.interactions.size(), 1u);
  EXPECT_EQ(c.interactions[0].timestamp, 1367366400);
  EXPECT_EQ(c.interactions[0].rating, 4.0f);
  EXPECT_EQ(c.skipped_records, 2u);
}

// Windows tools start UTF-8 files with a byte-order mark; it is not part of the first record.
TEST(AmazonReaderTest, ByteOrderMarkIsNotPartOfTheFirstRecord) {
  TempDir dir;
  RawCorpus c;
  read_amazon_reviews(
      dir.write("r.json",
                "\xEF\xBB\xBF{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1}\n"
                "{\"reviewerID\": \"U1\", \"asin\": \"I2\", \"unixReviewTime\": 2}\n"),
      {}, c);
  read_amazon_meta(dir.write("m.json", "\xEF\xBB\xBF{'asin': 'I1', 'title': 'Balm'}\n"), {}, c);
  EXPECT_EQ(c.interactions.size(), 2u);
  EXPECT_EQ(c.meta.at("I1").title, "Balm");
}

// Amazon's dumps were written by Python; what Python's json module reads is read here too: lone
// surrogate escapes, NaN / Infinity and integers beyond 64 bits. Other broken JSON still fails.
TEST(AmazonReaderTest, ReadsWhatPythonsJsonReads) {
  TempDir dir;
  const std::string reviews = dir.write(
      "r.json",
      "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1, \"reviewText\": "
      "\"cut \\ud83d emoji \\ud83d\\ude00\"}\n"
      "{\"reviewerID\": \"U1\", \"asin\": \"I2\", \"unixReviewTime\": 2, \"vote\": "
      "123456789012345678901234}\n"
      "{\"reviewerID\": \"U1\", \"asin\": \"I3\", \"unixReviewTime\": 3, \"helpful\": [NaN, "
      "-Infinity], \"overall\": 4.0}\n");
  RawCorpus c;
  read_amazon_reviews(reviews, {}, c);
  ASSERT_EQ(c.interactions.size(), 3u);
  EXPECT_EQ(c.interactions[2].item, "I3");
  EXPECT_EQ(c.interactions[2].rating, 4.0f);

  read_amazon_meta(dir.write("m.json",
                             "{\"asin\": \"I1\", \"title\": \"Rose \\ud83c Balm \\ud83d\\ude00\", "
                             "\"price\": NaN}\n"),
                   {}, c);
  EXPECT_EQ(c.meta.at("I1").title, "Rose \xEF\xBF\xBD Balm \xF0\x9F\x98\x80");
  EXPECT_EQ(c.meta.at("I1").price, "");

  const std::string broken = dir.write(
      "b.json", "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"unixReviewTime\": 1, \"x\": NaN\n");
  const std::string msg = reviews_error(broken);
  EXPECT_NE(msg.find("b.json:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
}

TEST(AmazonReaderTest, MalformedMetaLineIsReported) {
  TempDir dir;
  const std::string path =
      dir.write("meta_X.json", "{'asin': 'A', 'title': 'ok'}\n{'asin': 'B', 'title': 'oops}\n");
  try {
    RawCorpus c;
    read_amazon_meta(path, {}, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("meta_X.json:2"), std::string::npos) << e.what();
  }
}

TEST(AmazonReaderTest, EmptyAndMissingFiles) {
  TempDir dir;
  RawCorpus c;
  EXPECT_THROW(read_amazon_reviews(dir.write("empty.json", ""), {}, c), Error);
  try {
    read_amazon_reviews(dir.path("absent.json"), {}, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
}

TEST(RecBoleReaderTest, ReadsTypedHeaders) {
  RawCorpus c;
  read_recbole(fixture("recbole/tiny.inter"), fixture("recbole/tiny.item"), {}, c);
  ASSERT_EQ(c.interactions.size(), 3u);
  EXPECT_EQ(c.interactions[1].item, "11");
  EXPECT_EQ(c.interactions[1].timestamp, 90);
  EXPECT_FLOAT_EQ(c.interactions[1].rating, 4.0f);
  EXPECT_EQ(c.meta.at("10").title, "The Movie");
  EXPECT_EQ(c.meta.at("10").categories,
            (std::vector<std::vector<std::string>>{{"Drama", "Crime"}}));
}

TEST(RecBoleReaderTest, RejectsUntypedHeaderAndShortRows) {
  TempDir dir;
  RawCorpus c;
  EXPECT_THROW(read_recbole(dir.write("a.inter", "user_id\titem_id\n1\t2\n"), "", {}, c), Error);
  try {
    read_recbole(dir.write("b.inter", "user_id:token\titem_id:token\n1\t2\n3\n"), "", {}, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.inter:3"), std::string::npos) << e.what();
  }
}

TEST(MovieLensReaderTest, ReadsRatingsAndQuotedTitles) {
  RawCorpus c;
  read_movielens(fixture("movielens/ratings.csv"), fixture("movielens/movies.csv"), {}, c);
  ASSERT_EQ(c.interactions.size(), 3u);
  EXPECT_EQ(c.interactions[2].user, "2");
  EXPECT_FLOAT_EQ(c.interactions[1].rating, 3.0f);
  EXPECT_EQ(c.meta.at("1029").title, "Dumbo, the \"Flying\" Elephant (1941)");
  EXPECT_EQ(c.meta.at("1029").categories,
            (std::vector<std::vector<std::string>>{{"Animation"}, {"Children"}}));
}

// strtod and stod read "nan" and "inf": such a timestamp is a bad record, not undefined behaviour.
TEST(ReadersTest, NonFiniteTimestampsAreBadRecords) {
  TempDir dir;
  const std::string amazon = dir.write("r.json",
                                       "{\"reviewerID\": \"U1\", \"asin\": \"I1\", "
                                       "\"unixReviewTime\": 5}\n"
                                       "{\"reviewerID\": \"U1\", \"asin\": \"I2\", "
                                       "\"unixReviewTime\": \"nan\"}\n");
  const std::string recbole =
      dir.write("t.inter", "user_id:token\titem_id:token\ttimestamp:float\n1\t2\t5\n1\t3\tinf\n");
  const std::string movielens =
      dir.write("ratings.csv", "userId,movieId,rating,timestamp\n1,2,4.0,5\n1,3,4.0,1e300\n");
  const std::vector<std::pair<std::string, std::function<void(const ReadOptions&, RawCorpus&)>>>
      readers = {{"r.json:2",
                  [&](const ReadOptions& o, RawCorpus& c) { read_amazon_reviews(amazon, o, c); }},
                 {"t.inter:3",
                  [&](const ReadOptions& o, RawCorpus& c) { read_recbole(recbole, "", o, c); }},
                 {"ratings.csv:3", [&](const ReadOptions& o, RawCorpus& c) {
                    read_movielens(movielens, "", o, c);
                  }}};
  for (const auto& [where, read] : readers) {
    SCOPED_TRACE(where);
    try {
      RawCorpus c;
      read({}, c);
      FAIL() << "read a non-finite timestamp";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(where), std::string::npos) << msg;
      EXPECT_NE(msg.find("is not a time in seconds"), std::string::npos) << msg;
    }
    RawCorpus c;
    read({BadRecordPolicy::kSkip}, c);
    ASSERT_EQ(c.interactions.size(), 1u);
    EXPECT_EQ(c.interactions[0].timestamp, 5);
    EXPECT_EQ(c.skipped_records, 1u);
  }
  int64_t t = 0;
  EXPECT_TRUE(to_timestamp(-1.5, t));
  EXPECT_EQ(t, -1);
  EXPECT_FALSE(to_timestamp(9223372036854775808.0, t));
  EXPECT_TRUE(to_timestamp(-9223372036854775808.0, t));
  EXPECT_EQ(t, std::numeric_limits<int64_t>::min());
}

TEST(MovieLensReaderTest, RejectsWrongHeader) {
  TempDir dir;
  RawCorpus c;
  EXPECT_THROW(read_movielens(dir.write("ratings.csv", "a,b,c,d\n1,2,3,4\n"), "", {}, c), Error);
}

}  // namespace
}  // namespace recsys::data
