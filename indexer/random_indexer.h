// Random IDs, the control: every code drawn uniformly and independently from a seeded generator.
#pragma once

#include "indexer/indexer.h"

namespace recsys::indexer {

class RandomIndexer : public Indexer {
 public:
  explicit RandomIndexer(IndexerOptions options);
  std::string method() const override { return "random"; }
  CodeAssignment assign(const RowMatrix& features) override;

 private:
  IndexerOptions options_;
};

}  // namespace recsys::indexer
