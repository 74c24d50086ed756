#include "sequential_rec/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "recsys/error.h"
#include "sequential_rec/evaluator.h"

namespace recsys::seqrec {
namespace {

// Reports list metrics by cut-off, recall before NDCG, whatever the cut-offs are.
TEST(MetricsTest, MetricOrderIsByCutoff) {
  const std::map<std::string, double> m = {{"ndcg@10", 0},   {"recall@100", 0}, {"ndcg@1", 0},
                                           {"recall@10", 0}, {"recall@1", 0},   {"mrr", 0}};
  EXPECT_EQ(metric_order(m), (std::vector<std::string>{"recall@1", "ndcg@1", "recall@10", "ndcg@10",
                                                       "recall@100", "mrr"}));
}

TEST(MetricsTest, RecallCountsHitsWithinCutoff) {
  EXPECT_EQ(recall_at_k(0, 5), 1.0);
  EXPECT_EQ(recall_at_k(4, 5), 1.0);
  EXPECT_EQ(recall_at_k(5, 5), 0.0);
  EXPECT_EQ(recall_at_k(std::nullopt, 5), 0.0);
}

TEST(MetricsTest, NdcgMatchesHandComputedValues) {
  EXPECT_DOUBLE_EQ(ndcg_at_k(0, 10), 1.0);                   // 1/log2(2)
  EXPECT_NEAR(ndcg_at_k(1, 10), 0.6309297535714575, 1e-12);  // 1/log2(3)
  EXPECT_NEAR(ndcg_at_k(2, 10), 0.5, 1e-12);                 // 1/log2(4)
  EXPECT_NEAR(ndcg_at_k(9, 10), 1.0 / std::log2(11.0), 1e-12);
  EXPECT_EQ(ndcg_at_k(10, 10), 0.0);
  EXPECT_EQ(ndcg_at_k(std::nullopt, 10), 0.0);
}

TEST(MetricsTest, RankOfFindsTargetPosition) {
  std::vector<ItemIndex> ranked = {7, 3, 9};
  EXPECT_EQ(rank_of(ranked, 7), 0u);
  EXPECT_EQ(rank_of(ranked, 9), 2u);
  EXPECT_FALSE(rank_of(ranked, 4).has_value());
}

TEST(MetricsTest, AccumulatorAveragesOverUsers) {
  // Four users: ranks 0, 2, 6 and a miss. Hand-computed:
  // R@5 = 2/4 = 0.5, N@5 = (1 + 0.5) / 4 = 0.375,
  // R@10 = 3/4, N@10 = (1 + 0.5 + 1/log2(8)) / 4 = (1.5 + 1/3) / 4.
  MetricAccumulator acc({5, 10});
  acc.add(0);
  acc.add(2);
  acc.add(6);
  acc.add(std::nullopt);
  EXPECT_EQ(acc.count(), 4u);
  EXPECT_DOUBLE_EQ(acc.recall(5), 0.5);
  EXPECT_DOUBLE_EQ(acc.ndcg(5), 0.375);
  EXPECT_DOUBLE_EQ(acc.recall(10), 0.75);
  EXPECT_NEAR(acc.ndcg(10), (1.5 + 1.0 / 3.0) / 4.0, 1e-12);
  auto m = acc.means();
  EXPECT_DOUBLE_EQ(m.at("recall@10"), 0.75);
  MetricAccumulator other({5, 10});
  other.add(0);
  acc.merge(other);
  EXPECT_DOUBLE_EQ(acc.recall(5), 3.0 / 5.0);
  EXPECT_THROW(acc.recall(20), Error);
  EXPECT_THROW(MetricAccumulator({}), Error);
}

}  // namespace
}  // namespace recsys::seqrec
