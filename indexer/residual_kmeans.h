// Residual k-means: level 1 clusters the features, each further level clusters what the previous
// centroids leave unexplained (x - c1 - c2 ...), L levels of K codes. With L = 1 it is flat
// k-means. Also the k-means initialiser of residual quantiser codebooks.
#pragma once

#include <vector>

#include "indexer/indexer.h"
#include "indexer/kmeans.h"

namespace recsys::indexer {

class ResidualKMeans : public Indexer {
 public:
  // method is the name recorded in the map ("rkmeans" or "kmeans").
  ResidualKMeans(IndexerOptions options, std::string method = "rkmeans");
  std::string method() const override { return method_; }
  CodeAssignment assign(const RowMatrix& features) override;
  // Codebooks of the last assign(), one [K, D] matrix per level.
  const std::vector<RowMatrix>& codebooks() const { return codebooks_; }

 private:
  IndexerOptions options_;
  std::string method_;
  std::vector<RowMatrix> codebooks_;
};

}  // namespace recsys::indexer
