// Ranking metrics for leave-one-out evaluation (one target item per user): Recall@K and NDCG@K
// computed from the 0-based rank of the target in the ranked list (or "not ranked").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recsys/types.h"

namespace recsys::seqrec {

// Recall@K with one target: 1 if the target is within the first K positions.
double recall_at_k(std::optional<size_t> rank, size_t k);
// NDCG@K with one target: 1 / log2(rank + 2) if rank < K (the ideal DCG is 1).
double ndcg_at_k(std::optional<size_t> rank, size_t k);
// Position of `target` in `ranked` (0-based), or nullopt when absent.
std::optional<size_t> rank_of(const std::vector<ItemIndex>& ranked, ItemIndex target);

// Sums Recall@K and NDCG@K over users for a fixed list of K; mean() divides by the user count.
class MetricAccumulator {
 public:
  explicit MetricAccumulator(std::vector<size_t> ks);
  void add(std::optional<size_t> rank);
  void merge(const MetricAccumulator& other);
  uint64_t count() const { return count_; }
  // {"recall@5": ..., "ndcg@5": ..., ...} as means over the users added.
  std::map<std::string, double> means() const;
  double recall(size_t k) const;
  double ndcg(size_t k) const;

 private:
  size_t index_of(size_t k) const;
  std::vector<size_t> ks_;
  std::vector<double> recall_sum_;
  std::vector<double> ndcg_sum_;
  uint64_t count_ = 0;
};

}  // namespace recsys::seqrec
