#include "indexer/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

std::vector<std::string> small_corpus() {
  std::vector<std::string> c;
  const char* words[] = {"shampoo", "conditioner", "lipstick", "mascara", "moisturizer",
                         "serum",   "foundation",  "nail",     "polish",  "hair"};
  for (int i = 0; i < 200; ++i)
    c.push_back(std::string(words[i % 10]) + " for " + words[(i * 7 + 3) % 10] + " and " +
                words[(i * 3 + 1) % 10] + " Deluxe " + std::to_string(i % 13));
  c.push_back("");  // skipped
  return c;
}

TokenizerOptions small_options(const std::string& type) {
  TokenizerOptions o;
  o.vocab_size = 60;
  o.model_type = type;
  o.num_threads = 1;
  return o;
}

TEST(TokenizerTest, TrainsUnigramAndRoundTrips) {
  Tokenizer tok = Tokenizer::train(small_corpus(), small_options("unigram"));
  EXPECT_LE(tok.vocab_size(), 60);
  EXPECT_GT(tok.vocab_size(), 20);
  EXPECT_EQ(tok.pad_id(), 0);
  EXPECT_EQ(tok.unk_id(), 1);
  const std::vector<int> ids = tok.encode("Shampoo for hair");
  ASSERT_FALSE(ids.empty());
  for (int id : ids) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, tok.vocab_size());
    EXPECT_NE(id, tok.unk_id());
  }
  EXPECT_EQ(tok.decode(ids), "shampoo for hair");  // lowercased by the normaliser
}

// Texts beyond max_sentence_length (4,192 bytes) are trained on by their start: SentencePiece
// would skip them, and a corpus of long descriptions only would have nothing to train on.
TEST(TokenizerTest, TrainsOnTheStartOfLongTexts) {
  std::vector<std::string> long_texts;
  for (std::string text : small_corpus()) {
    if (text.empty()) continue;
    while (text.size() <= 5000) text += " caf\u00e9 deluxe";  // 2-byte characters on the cut
    long_texts.push_back(text);
  }
  const Tokenizer tok = Tokenizer::train(long_texts, small_options("unigram"));
  EXPECT_GT(tok.vocab_size(), 20);
  const std::vector<int> ids = tok.encode("shampoo for hair");
  for (int id : ids) EXPECT_NE(id, tok.unk_id());
  EXPECT_EQ(tok.decode(ids), "shampoo for hair");
}

TEST(TokenizerTest, TrainsBpe) {
  Tokenizer tok = Tokenizer::train(small_corpus(), small_options("bpe"));
  EXPECT_EQ(tok.decode(tok.encode("mascara and serum")), "mascara and serum");
}

TEST(TokenizerTest, TrainingIsDeterministic) {
  Tokenizer a = Tokenizer::train(small_corpus(), small_options("unigram"));
  Tokenizer b = Tokenizer::train(small_corpus(), small_options("unigram"));
  EXPECT_EQ(a.serialized(), b.serialized());
}

TEST(TokenizerTest, SavesAndLoadsModelFile) {
  Tokenizer tok = Tokenizer::train(small_corpus(), small_options("unigram"));
  const std::string path = testing::TempDir() + "/lmidx_tokenizer_test.model";
  tok.save(path);
  Tokenizer loaded = Tokenizer::load(path);
  EXPECT_EQ(loaded.vocab_size(), tok.vocab_size());
  EXPECT_EQ(loaded.encode("nail polish serum"), tok.encode("nail polish serum"));
  Tokenizer copy = Tokenizer::from_serialized(tok.serialized());
  EXPECT_EQ(copy.encode("nail polish serum"), tok.encode("nail polish serum"));
  std::remove(path.c_str());
}

TEST(TokenizerTest, RejectsBadInput) {
  EXPECT_THROW(Tokenizer::load("/nonexistent/spiece.model"), Error);
  const std::string path = testing::TempDir() + "/lmidx_not_a_model.model";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("not a protobuf", f);
    std::fclose(f);
  }
  EXPECT_THROW(Tokenizer::load(path), Error);
  std::remove(path.c_str());
  EXPECT_THROW(Tokenizer::train({"", ""}, small_options("unigram")), Error);
  EXPECT_THROW(Tokenizer::train(small_corpus(), small_options("wordpiece")), Error);
}

}  // namespace
}  // namespace recsys::indexer
