#include "indexer/cluster_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

// Reference values from scikit-learn's own test suite (test_supervised.py).
const std::vector<uint64_t> kLabelsA = {1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3};
const std::vector<uint64_t> kLabelsB = {1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2};

TEST(ClusterMetricsTest, MatchesScikitLearnReferenceValues) {
  const ClusterAgreement r = cluster_agreement(kLabelsA, kLabelsB);
  EXPECT_NEAR(r.mutual_information, 0.41022, 1e-5);
  EXPECT_NEAR(r.expected_mutual_information, 0.15042, 1e-5);
  EXPECT_NEAR(r.ami, 0.27821, 1e-5);
  EXPECT_EQ(r.num_true, 3u);
  EXPECT_EQ(r.num_pred, 3u);
}

TEST(ClusterMetricsTest, LargeRepeatedArrayMatchesScikitLearn) {
  std::vector<uint64_t> a, b;
  for (int i = 0; i < 110; ++i) {
    a.insert(a.end(), kLabelsA.begin(), kLabelsA.end());
    b.insert(b.end(), kLabelsB.begin(), kLabelsB.end());
  }
  EXPECT_NEAR(adjusted_mutual_information(a, b), 0.38, 0.005);
}

TEST(ClusterMetricsTest, PermutedIdenticalLabelingsScoreOne) {
  EXPECT_NEAR(adjusted_mutual_information({1, 1, 2, 2}, {2, 2, 3, 3}), 1.0, 1e-12);
  EXPECT_NEAR(normalized_mutual_information({0, 0, 1, 1, 2}, {5, 5, 7, 7, 9}), 1.0, 1e-12);
}

TEST(ClusterMetricsTest, HandComputedNmi) {
  // a = {0,0,1,1}, b = {0,0,0,1}: MI = 0.5 ln 2 + 0.25 ln(4/3) + 0.25 ln(2/3)... computed by hand:
  // H(a) = ln 2, H(b) = -(0.75 ln 0.75 + 0.25 ln 0.25), MI = H(b) - H(b|a) = H(b) - 0.5 ln 2.
  const double ha = std::log(2.0);
  const double hb = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  const double mi = hb - 0.5 * std::log(2.0);
  const ClusterAgreement r = cluster_agreement({0, 0, 1, 1}, {0, 0, 0, 1});
  EXPECT_NEAR(r.mutual_information, mi, 1e-12);
  EXPECT_NEAR(r.nmi, mi / (0.5 * (ha + hb)), 1e-12);
}

TEST(ClusterMetricsTest, IndependentRandomLabelsScoreNearZero) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<uint64_t> six(0, 5), many(0, 255);
  std::vector<uint64_t> a(5000), b(5000);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = six(rng);
    b[i] = many(rng);
  }
  const ClusterAgreement r = cluster_agreement(a, b);
  EXPECT_NEAR(r.ami, 0.0, 0.01);
  EXPECT_GT(r.nmi, 0.01);  // NMI is biased upwards by many clusters; AMI corrects it
}

TEST(ClusterMetricsTest, SizeMismatchThrows) {
  EXPECT_THROW(cluster_agreement({1, 2}, {1}), Error);
}

TEST(ClusterMetricsTest, EncodeLabelsIsDenseInFirstAppearanceOrder) {
  EXPECT_EQ(encode_labels({"b", "a", "b", "c"}), (std::vector<uint64_t>{0, 1, 0, 2}));
}

}  // namespace
}  // namespace recsys::indexer
