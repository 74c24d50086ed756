// Several trained recommenders over one catalogue, used as one: seeds of one recipe, TIGER on
// different ID maps, or TIGER beside SASRec.
//
// Each member ranks its own candidates (TIGER: the items of its constrained beam; SASRec: its top
// items under the full softmax), and the ensemble ranks their union by the members' mean
// probability
//     p(item) = (1/M) sum_m p_m(item),    p_m = exp(member m's score),
// where an item outside member m's candidates counts 0 there. Both models score items by their
// log-probability (recommender.h), so the members' probabilities are on one scale. Each member is
// asked for max(top_k, beam_size) candidates, so a wider beam tightens the sum. Scores of the
// result are log p(item).
#pragma once

#include <string>
#include <vector>

#include "sequential_rec/recommender.h"

namespace recsys::seqrec {

class EnsembleRecommender final : public Recommender {
 public:
  // Members are not owned and must outlive the ensemble; at least one, all over the same number
  // of items (throws kInvalidArgument otherwise).
  explicit EnsembleRecommender(std::vector<Recommender*> members);

  // "ensemble(tiger+tiger+sasrec)": the members' names in order.
  std::string name() const override;
  // The first member's config (an ensemble has no config of its own).
  const ModelConfig& config() const override { return members_.front()->config(); }
  size_t num_items() const override { return members_.front()->num_items(); }
  std::vector<std::vector<ScoredItem>> recommend(const std::vector<Query>& queries,
                                                 const RecommendOptions& options) override;
  // The members' parameters together.
  int64_t num_parameters() const override;

 private:
  std::vector<Recommender*> members_;
};

}  // namespace recsys::seqrec
