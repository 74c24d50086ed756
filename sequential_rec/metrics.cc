#include "sequential_rec/metrics.h"

#include <algorithm>
#include <cmath>

#include "recsys/error.h"

namespace recsys::seqrec {

double recall_at_k(std::optional<size_t> rank, size_t k) { return rank && *rank < k ? 1.0 : 0.0; }

double ndcg_at_k(std::optional<size_t> rank, size_t k) {
  return rank && *rank < k ? 1.0 / std::log2(static_cast<double>(*rank) + 2.0) : 0.0;
}

std::optional<size_t> rank_of(const std::vector<ItemIndex>& ranked, ItemIndex target) {
  auto it = std::find(ranked.begin(), ranked.end(), target);
  if (it == ranked.end()) return std::nullopt;
  return static_cast<size_t>(it - ranked.begin());
}

MetricAccumulator::MetricAccumulator(std::vector<size_t> ks)
    : ks_(std::move(ks)), recall_sum_(ks_.size(), 0.0), ndcg_sum_(ks_.size(), 0.0) {
  RECSYS_CHECK(!ks_.empty(), "at least one cut-off K is needed");
  for (size_t k : ks_) RECSYS_CHECK(k > 0, "cut-off K must be positive");
}

void MetricAccumulator::add(std::optional<size_t> rank) {
  for (size_t i = 0; i < ks_.size(); ++i) {
    recall_sum_[i] += recall_at_k(rank, ks_[i]);
    ndcg_sum_[i] += ndcg_at_k(rank, ks_[i]);
  }
  ++count_;
}

void MetricAccumulator::merge(const MetricAccumulator& other) {
  RECSYS_CHECK(other.ks_ == ks_, "cannot merge metrics with different cut-offs");
  for (size_t i = 0; i < ks_.size(); ++i) {
    recall_sum_[i] += other.recall_sum_[i];
    ndcg_sum_[i] += other.ndcg_sum_[i];
  }
  count_ += other.count_;
}

size_t MetricAccumulator::index_of(size_t k) const {
  auto it = std::find(ks_.begin(), ks_.end(), k);
  RECSYS_CHECK(it != ks_.end(), "cut-off ", k, " was not accumulated");
  return static_cast<size_t>(it - ks_.begin());
}

double MetricAccumulator::recall(size_t k) const {
  return count_ ? recall_sum_[index_of(k)] / static_cast<double>(count_) : 0.0;
}

double MetricAccumulator::ndcg(size_t k) const {
  return count_ ? ndcg_sum_[index_of(k)] / static_cast<double>(count_) : 0.0;
}

std::map<std::string, double> MetricAccumulator::means() const {
  std::map<std::string, double> out;
  for (size_t k : ks_) {
    out["recall@" + std::to_string(k)] = recall(k);
    out["ndcg@" + std::to_string(k)] = ndcg(k);
  }
  return out;
}

}  // namespace recsys::seqrec
