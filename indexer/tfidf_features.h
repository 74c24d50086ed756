// Text features of items: TF-IDF over one text field (the title, or the item text template built at
// ingest), reduced by randomised truncated SVD and L2-normalised (LSA), the default embedded text
// encoder: deterministic and download-free. Mirrors scikit-learn's TfidfVectorizer(sublinear_tf,
// min_df, smooth_idf, norm="l2") + TruncatedSVD + normalize().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "indexer/matrix.h"
#include "indexer/randomized_svd.h"
#include "recsys/types.h"

namespace recsys::indexer {

struct TfidfOptions {
  std::string field = "title";  // "title" | "text" (ItemRecord::text, the ingest template)
  uint32_t min_df = 2;          // terms in fewer documents are dropped
  double max_df = 1.0;          // terms in a larger fraction of documents are dropped
  bool sublinear_tf = true;     // tf -> 1 + ln(tf)
  uint32_t dims = 256;          // SVD components
  uint32_t power_iterations = 5;
  uint32_t oversamples = 10;
  bool normalize = true;  // L2-normalise the reduced rows
  uint64_t seed = 0;
  void validate() const;
  std::string to_json() const;
};

// The text of `item` selected by field ("title" or "text"); throws on other names.
const std::string& item_field_text(const ItemRecord& item, const std::string& field);

class TfidfVectorizer {
 public:
  explicit TfidfVectorizer(TfidfOptions options);
  // Learns the vocabulary and idf from docs and returns the L2-normalised TF-IDF rows [N, V].
  SparseRowMatrix fit_transform(const std::vector<std::string>& docs);
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }  // sorted
  const std::vector<float>& idf() const { return idf_; }

 private:
  TfidfOptions options_;
  std::vector<std::string> vocabulary_;
  std::vector<float> idf_;
};

struct TextFeatureStats {
  uint64_t documents = 0;
  uint64_t empty_documents = 0;  // no term left after min_df
  uint64_t vocabulary = 0;
  uint64_t nonzeros = 0;
  double energy_kept = 0;  // share of the squared Frobenius norm the kept components carry
  double seconds = 0;
};

// TF-IDF -> randomised SVD -> L2 norm; one row per item, [N, dims].
RowMatrix tfidf_svd_embeddings(const std::vector<ItemRecord>& items, const TfidfOptions& options,
                               TextFeatureStats* stats = nullptr);

}  // namespace recsys::indexer
