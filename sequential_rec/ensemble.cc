#include "sequential_rec/ensemble.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "recsys/error.h"

namespace recsys::seqrec {

EnsembleRecommender::EnsembleRecommender(std::vector<Recommender*> members)
    : members_(std::move(members)) {
  RECSYS_CHECK(!members_.empty(), "an ensemble needs at least one member");
  for (const Recommender* m : members_) {
    RECSYS_CHECK(m != nullptr, "an ensemble member is missing");
    RECSYS_CHECK(m->num_items() == members_.front()->num_items(), "ensemble members know ",
                 members_.front()->num_items(), " and ", m->num_items(),
                 " items: they were trained on different datasets");
  }
}

std::string EnsembleRecommender::name() const {
  std::string out = "ensemble(";
  for (size_t i = 0; i < members_.size(); ++i) out += (i ? "+" : "") + members_[i]->name();
  return out + ")";
}

int64_t EnsembleRecommender::num_parameters() const {
  int64_t n = 0;
  for (const Recommender* m : members_) n += m->num_parameters();
  return n;
}

std::vector<std::vector<ScoredItem>> EnsembleRecommender::recommend(
    const std::vector<Query>& queries, const RecommendOptions& options) {
  std::vector<std::vector<ScoredItem>> out(queries.size());
  if (options.top_k == 0) return out;
  RecommendOptions each = options;
  if (options.beam_size > 0)
    each.top_k = std::max(options.top_k, static_cast<size_t>(options.beam_size));
  // (item, probability / M) of every member's candidates, per query.
  std::vector<std::vector<std::pair<ItemIndex, double>>> shares(queries.size());
  const double weight = 1.0 / static_cast<double>(members_.size());
  for (Recommender* m : members_) {
    const auto lists = m->recommend(queries, each);
    RECSYS_CHECK(lists.size() == queries.size(), m->name(), " answered ", lists.size(), " of ",
                 queries.size(), " queries");
    for (size_t q = 0; q < lists.size(); ++q) {
      for (const ScoredItem& s : lists[q])
        shares[q].emplace_back(s.item, weight * std::exp(s.score));
    }
  }
  for (size_t q = 0; q < queries.size(); ++q) {
    auto& v = shares[q];
    std::sort(v.begin(), v.end());
    std::vector<std::pair<ItemIndex, double>> summed;
    for (const auto& [item, p] : v) {
      if (!summed.empty() && summed.back().first == item) {
        summed.back().second += p;
      } else {
        summed.emplace_back(item, p);
      }
    }
    // Most probable first; equal probabilities in item order, so the result is deterministic.
    std::stable_sort(summed.begin(), summed.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (summed.size() > options.top_k) summed.resize(options.top_k);
    for (const auto& [item, p] : summed) {
      out[q].push_back({item, static_cast<float>(std::log(p))});
    }
  }
  return out;
}

}  // namespace recsys::seqrec
