#include "indexer/tfidf_features.h"

#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "indexer/text_words.h"
#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {

void TfidfOptions::validate() const {
  RECSYS_CHECK(field == "title" || field == "text", "TF-IDF: unknown field '", field,
               "' (valid: title, text)");
  RECSYS_CHECK(min_df >= 1, "TF-IDF: min_df must be >= 1");
  RECSYS_CHECK(max_df > 0 && max_df <= 1.0, "TF-IDF: max_df must be in (0, 1]");
  RECSYS_CHECK(dims > 0, "TF-IDF: dims must be > 0");
}

std::string TfidfOptions::to_json() const {
  return nlohmann::json{{"encoder", "tfidf_svd"},
                        {"field", field},
                        {"min_df", min_df},
                        {"max_df", max_df},
                        {"sublinear_tf", sublinear_tf},
                        {"dims", dims},
                        {"power_iterations", power_iterations},
                        {"oversamples", oversamples},
                        {"normalize", normalize},
                        {"seed", seed}}
      .dump();
}

const std::string& item_field_text(const ItemRecord& item, const std::string& field) {
  if (field == "title") return item.title;
  if (field == "text") return item.text;
  RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown item text field '", field,
               "' (valid: title, text)");
}

TfidfVectorizer::TfidfVectorizer(TfidfOptions options) : options_(std::move(options)) {
  options_.validate();
}

SparseRowMatrix TfidfVectorizer::fit_transform(const std::vector<std::string>& docs) {
  const size_t n = docs.size();
  std::vector<std::unordered_map<std::string, uint32_t>> counts(n);
  std::map<std::string, uint64_t> df;
  for (size_t i = 0; i < n; ++i) {
    for (auto& w : split_words(docs[i])) ++counts[i][std::move(w)];
    for (const auto& [w, c] : counts[i]) ++df[w];
  }
  const double max_docs = options_.max_df * double(n);
  vocabulary_.clear();
  idf_.clear();
  std::unordered_map<std::string, uint32_t> column;
  for (const auto& [w, d] : df) {  // std::map: sorted vocabulary, as scikit-learn
    if (d < options_.min_df || double(d) > max_docs) continue;
    column.emplace(w, static_cast<uint32_t>(vocabulary_.size()));
    vocabulary_.push_back(w);
    // Smoothed idf: ln((1 + n) / (1 + df)) + 1.
    idf_.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + d)) + 1.0));
  }
  std::vector<Eigen::Triplet<float>> triplets;
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::pair<uint32_t, float>> row;
    double norm = 0;
    for (const auto& [w, c] : counts[i]) {
      auto it = column.find(w);
      if (it == column.end()) continue;
      const double tf = options_.sublinear_tf ? 1.0 + std::log(double(c)) : double(c);
      const double v = tf * idf_[it->second];
      row.emplace_back(it->second, static_cast<float>(v));
      norm += v * v;
    }
    norm = std::sqrt(norm);
    for (const auto& [j, v] : row)
      triplets.emplace_back(static_cast<int>(i), static_cast<int>(j), static_cast<float>(v / norm));
  }
  SparseRowMatrix m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(vocabulary_.size()));
  m.setFromTriplets(triplets.begin(), triplets.end());
  return m;
}

RowMatrix tfidf_svd_embeddings(const std::vector<ItemRecord>& items, const TfidfOptions& options,
                               TextFeatureStats* stats) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> docs;
  docs.reserve(items.size());
  for (const auto& item : items) docs.push_back(item_field_text(item, options.field));
  TfidfVectorizer vectorizer(options);
  const SparseRowMatrix tfidf = vectorizer.fit_transform(docs);
  RECSYS_CHECK(tfidf.cols() > 0, "TF-IDF: no term occurs in ", options.min_df,
               " or more items (field '", options.field, "')");
  RandomizedSvdOptions svd_options;
  svd_options.rank = options.dims;
  svd_options.oversamples = options.oversamples;
  svd_options.power_iterations = options.power_iterations;
  svd_options.seed = options.seed;
  RandomizedSvdResult svd = randomized_svd(tfidf, svd_options);
  RowMatrix x = std::move(svd.transformed);
  if (x.cols() < options.dims) {  // rank capped by the data: pad with zero columns
    RowMatrix padded = RowMatrix::Zero(x.rows(), options.dims);
    padded.leftCols(x.cols()) = x;
    x = std::move(padded);
  }
  uint64_t empty = 0;
  for (Eigen::Index i = 0; i < tfidf.rows(); ++i)
    empty += tfidf.outerIndexPtr()[i + 1] == tfidf.outerIndexPtr()[i];
  if (options.normalize) normalize_rows(x);
  TextFeatureStats s;
  s.documents = items.size();
  s.empty_documents = empty;
  s.vocabulary = vectorizer.vocabulary().size();
  s.nonzeros = tfidf.nonZeros();
  // Every non-empty row of the TF-IDF matrix has unit norm, so its squared Frobenius norm is the
  // number of non-empty rows.
  const double total = double(items.size() - empty);
  s.energy_kept = total > 0 ? svd.singular_values.squaredNorm() / total : 0;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RECSYS_LOG(Info) << "TF-IDF(" << options.field << "): " << s.documents << " items, "
                   << s.vocabulary << " terms (min_df " << options.min_df << "), "
                   << s.empty_documents << " empty; SVD " << options.dims << " dims keeps "
                   << 100 * s.energy_kept << "% of the squared norm; " << s.seconds << " s";
  if (stats) *stats = s;
  return x;
}

}  // namespace recsys::indexer
