// Dense row-major float matrix used for item embeddings and centroids: row i = item i. Plain Eigen,
// no LibTorch, so the k-means family and the text featurisers stay torch-free.
#pragma once

#include <Eigen/Core>

namespace recsys::indexer {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace recsys::indexer
