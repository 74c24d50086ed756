// Dense row-major float matrix used for item embeddings and centroids: row i = item i. Plain Eigen,
// no LibTorch, so the k-means family and the text featurisers stay torch-free.
#pragma once

#include <Eigen/Core>

namespace recsys::indexer {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Scales every non-zero row to unit L2 norm; zero rows stay zero.
inline void normalize_rows(RowMatrix& x) {
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const float norm = x.row(i).norm();
    if (norm > 0) x.row(i) /= norm;
  }
}

}  // namespace recsys::indexer
