#include "indexer/collaborative_features.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "indexer/randomized_svd.h"
#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {

void CollaborativeOptions::validate() const {
  RECSYS_CHECK(dims > 0, "collaborative features: dims must be > 0");
  RECSYS_CHECK(window > 0, "collaborative features: window must be >= 1");
}

std::string CollaborativeOptions::to_json() const {
  return nlohmann::json{{"encoder", "ppmi_svd"},
                        {"dims", dims},
                        {"window", window},
                        {"holdout", holdout},
                        {"power_iterations", power_iterations},
                        {"oversamples", oversamples},
                        {"seed", seed}}
      .dump();
}

RowMatrix collaborative_embeddings(const Dataset& dataset, const CollaborativeOptions& options,
                                   CollaborativeStats* stats) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  const size_t n = dataset.items.size();
  RECSYS_CHECK(n > 0, "collaborative features: the dataset has no items");
  // Symmetric windowed counts; key = i * n + j.
  std::unordered_map<uint64_t, float> counts;
  std::vector<double> marginal(n, 0.0);
  double total = 0;
  CollaborativeStats s;
  for (const auto& user : dataset.users) {
    const size_t len =
        user.items.size() > options.holdout ? user.items.size() - options.holdout : 0;
    for (size_t p = 0; p < len; ++p) {
      const ItemIndex a = user.items[p];
      RECSYS_CHECK(a < n, "collaborative features: user '", user.external_id, "' has item ", a,
                   " outside the catalogue of ", n);
      for (size_t q = p + 1; q < std::min(len, p + 1 + options.window); ++q) {
        const ItemIndex b = user.items[q];
        RECSYS_CHECK(b < n, "collaborative features: user '", user.external_id, "' has item ", b,
                     " outside the catalogue of ", n);
        if (a == b) continue;
        counts[uint64_t(a) * n + b] += 1;
        counts[uint64_t(b) * n + a] += 1;
        marginal[a] += 1;
        marginal[b] += 1;
        total += 2;
        ++s.pairs;
      }
    }
  }
  std::vector<Eigen::Triplet<float>> triplets;
  triplets.reserve(counts.size());
  for (const auto& [key, c] : counts) {
    const uint64_t i = key / n, j = key % n;
    const double pmi = std::log(double(c) * total / (marginal[i] * marginal[j]));
    if (pmi > 0) triplets.emplace_back(Eigen::Index(i), Eigen::Index(j), float(pmi));
  }
  const auto size = Eigen::Index(n);
  SparseRowMatrix ppmi(size, size);
  ppmi.setFromTriplets(triplets.begin(), triplets.end());
  ppmi.makeCompressed();
  s.nonzeros = ppmi.nonZeros();
  for (Eigen::Index i = 0; i < ppmi.rows(); ++i)
    s.items_without_signal += ppmi.outerIndexPtr()[i + 1] == ppmi.outerIndexPtr()[i];
  RECSYS_CHECK(s.nonzeros > 0, "collaborative features: no two items co-occur within ",
               options.window, " positions in the training part of any sequence");

  RandomizedSvdOptions svd_options;
  svd_options.rank = options.dims;
  svd_options.oversamples = options.oversamples;
  svd_options.power_iterations = options.power_iterations;
  svd_options.seed = options.seed;
  const RandomizedSvdResult svd = randomized_svd(ppmi, svd_options);
  RowMatrix x = RowMatrix::Zero(Eigen::Index(n), options.dims);  // rank may be capped: zero pad
  for (Eigen::Index k = 0; k < svd.transformed.cols(); ++k) {
    const double sv = svd.singular_values[k];
    if (sv > 0) x.col(k) = svd.transformed.col(k) / float(std::sqrt(sv));  // U S -> U sqrt(S)
  }
  normalize_rows(x);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RECSYS_LOG(Info) << "collaborative features: " << s.pairs << " co-occurrences (window "
                   << options.window << ", last " << options.holdout
                   << " items of each user held out), " << s.nonzeros << " positive-PMI pairs, "
                   << s.items_without_signal << " of " << n << " items without signal; SVD "
                   << options.dims << " dims; " << s.seconds << " s";
  if (stats) *stats = s;
  return x;
}

RowMatrix concat_features(const RowMatrix& a, const RowMatrix& b, float weight) {
  RECSYS_CHECK(a.rows() == b.rows(), "concat_features: ", a.rows(), " rows against ", b.rows());
  RECSYS_CHECK(std::isfinite(weight) && weight >= 0, "concat_features: weight must be >= 0");
  RowMatrix x(a.rows(), a.cols() + b.cols());
  x.leftCols(a.cols()) = a;
  x.rightCols(b.cols()) = weight * b;
  return x;
}

}  // namespace recsys::indexer
