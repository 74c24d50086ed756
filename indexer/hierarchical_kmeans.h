// Hierarchical k-means as in DSI (Tay et al. 2022): cluster all items into `branch` groups, then
// recursively cluster every group larger than `branch` again, one code position per depth. A group
// of at most `branch` items is not clustered further: its items get the distinct codes 0..n-1 at
// the next position (ordered by distance to the group mean) and code 0 below. Fixed depth L; the
// collision suffix separates what is left at the last level.
#pragma once

#include "indexer/indexer.h"

namespace recsys::indexer {

class HierarchicalKMeans : public Indexer {
 public:
  explicit HierarchicalKMeans(IndexerOptions options);
  std::string method() const override { return "hkmeans"; }
  CodeAssignment assign(const RowMatrix& features) override;

 private:
  IndexerOptions options_;
};

}  // namespace recsys::indexer
