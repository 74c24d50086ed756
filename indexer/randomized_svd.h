// Randomised truncated SVD (Halko, Martinsson & Tropp 2011) of a sparse matrix, as scikit-learn's
// TruncatedSVD(algorithm="randomized"): Gaussian sketch, power iterations with re-orthonormalised
// bases, then an exact SVD of the small projected matrix. Eigen only.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <cstdint>

#include "indexer/matrix.h"

namespace recsys::indexer {

using SparseRowMatrix = Eigen::SparseMatrix<float, Eigen::RowMajor>;

struct RandomizedSvdOptions {
  uint32_t rank = 256;            // components kept
  uint32_t oversamples = 10;      // extra sketch columns
  uint32_t power_iterations = 5;  // scikit-learn's n_iter
  uint64_t seed = 0;
  void validate() const;
};

struct RandomizedSvdResult {
  RowMatrix transformed;            // U * diag(S), [N, rank] (TruncatedSVD.fit_transform)
  Eigen::VectorXd singular_values;  // [rank], descending
};

// a is [N, F]; the rank is capped at min(N, F).
RandomizedSvdResult randomized_svd(const SparseRowMatrix& a, const RandomizedSvdOptions& options);

}  // namespace recsys::indexer
