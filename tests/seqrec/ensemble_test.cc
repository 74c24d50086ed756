#include "sequential_rec/ensemble.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "recsys/error.h"

namespace recsys::seqrec {
namespace {

// A member with fixed probabilities per item, the same for every query; records what it was
// asked for.
class FixedRecommender : public Recommender {
 public:
  FixedRecommender(std::string name, size_t num_items, std::map<ItemIndex, double> probs)
      : name_(std::move(name)), num_items_(num_items), probs_(std::move(probs)) {}
  std::string name() const override { return name_; }
  const ModelConfig& config() const override { return config_; }
  size_t num_items() const override { return num_items_; }
  int64_t num_parameters() const override { return 7; }
  std::vector<std::vector<ScoredItem>> recommend(const std::vector<Query>& queries,
                                                 const RecommendOptions& options) override {
    asked = options;
    std::vector<ScoredItem> ranked;
    for (const auto& [item, p] : probs_) ranked.push_back({item, static_cast<float>(std::log(p))});
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.score > b.score; });
    if (ranked.size() > options.top_k) ranked.resize(options.top_k);
    return std::vector<std::vector<ScoredItem>>(queries.size(), ranked);
  }
  RecommendOptions asked;

 private:
  std::string name_;
  size_t num_items_;
  std::map<ItemIndex, double> probs_;
  ModelConfig config_;
};

std::vector<ItemIndex> items_of(const std::vector<ScoredItem>& list) {
  std::vector<ItemIndex> out;
  for (const auto& s : list) out.push_back(s.item);
  return out;
}

// Items are ranked by the members' mean probability; one a member did not return counts 0 there.
TEST(EnsembleTest, RanksByMeanProbability) {
  FixedRecommender a("tiger", 10, {{1, 0.5}, {2, 0.3}, {3, 0.2}});
  FixedRecommender b("sasrec", 10, {{4, 0.6}, {2, 0.4}});
  EnsembleRecommender ensemble({&a, &b});
  EXPECT_EQ(ensemble.name(), "ensemble(tiger+sasrec)");
  EXPECT_EQ(ensemble.num_parameters(), 14);
  RecommendOptions options;
  options.top_k = 3;
  options.beam_size = 5;
  const auto out = ensemble.recommend({Query{}, Query{}}, options);
  ASSERT_EQ(out.size(), 2u);
  // Means: 2 -> 0.35, 4 -> 0.30, 1 -> 0.25, 3 -> 0.10.
  EXPECT_EQ(items_of(out[0]), (std::vector<ItemIndex>{2, 4, 1}));
  EXPECT_NEAR(out[0][0].score, std::log(0.35), 1e-6);
  EXPECT_NEAR(out[0][2].score, std::log(0.25), 1e-6);
  EXPECT_EQ(items_of(out[1]), items_of(out[0]));
  // Members are asked for the wider of top_k and the beam; everything else passes through.
  EXPECT_EQ(a.asked.top_k, 5u);
  EXPECT_EQ(b.asked.beam_size, 5);
  options.top_k = 8;
  options.exclude_history = true;
  options.precision = "bf16";
  EXPECT_EQ(ensemble.recommend({Query{}}, options)[0].size(), 4u);  // the union is all there is
  EXPECT_EQ(a.asked.top_k, 8u);
  EXPECT_TRUE(a.asked.exclude_history);
  EXPECT_EQ(b.asked.precision, "bf16");
}

// A one-member ensemble is the member; equal probabilities keep item order.
TEST(EnsembleTest, OneMemberIsTheMemberAndTiesKeepItemOrder) {
  FixedRecommender a("tiger", 10, {{7, 0.25}, {3, 0.25}, {5, 0.5}});
  EnsembleRecommender ensemble({&a});
  RecommendOptions options;
  options.top_k = 3;
  const auto out = ensemble.recommend({Query{}}, options);
  EXPECT_EQ(items_of(out[0]), (std::vector<ItemIndex>{5, 3, 7}));
  EXPECT_NEAR(out[0][0].score, std::log(0.5), 1e-6);
  options.top_k = 0;
  EXPECT_TRUE(ensemble.recommend({Query{}}, options)[0].empty());
}

TEST(EnsembleTest, RejectsNoMembersAndOtherCatalogues) {
  FixedRecommender a("tiger", 10, {{1, 1.0}});
  FixedRecommender b("tiger", 11, {{1, 1.0}});
  EXPECT_THROW(EnsembleRecommender({}), Error);
  EXPECT_THROW(EnsembleRecommender({&a, nullptr}), Error);
  try {
    EnsembleRecommender({&a, &b});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10 and 11 items"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace recsys::seqrec
