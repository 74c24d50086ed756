#include "indexer/tfidf_features.h"

#include <gtest/gtest.h>

#include <Eigen/SVD>
#include <cmath>
#include <random>

#include "indexer/randomized_svd.h"
#include "indexer/text_words.h"
#include "recsys/error.h"

namespace recsys::indexer {
namespace {

TEST(TextWordsTest, SplitsLikeScikitLearnDefaultPattern) {
  EXPECT_EQ(split_words("L'Oreal Paris: Eye-Liner x2, 0.5 oz"),
            (std::vector<std::string>{"oreal", "paris", "eye", "liner", "x2", "oz"}));
}

TEST(TfidfVectorizerTest, MinDfSublinearTfSmoothIdfAndUnitRows) {
  TfidfOptions o;
  o.min_df = 2;
  TfidfVectorizer v(o);
  // "red" in 3 docs, "lipstick" in 2, "shampoo" in 1 (dropped by min_df).
  const SparseRowMatrix m = v.fit_transform({"red red lipstick", "red lipstick", "red shampoo"});
  EXPECT_EQ(v.vocabulary(), (std::vector<std::string>{"lipstick", "red"}));
  EXPECT_NEAR(v.idf()[0], std::log(4.0 / 3.0) + 1, 1e-6);
  EXPECT_NEAR(v.idf()[1], std::log(4.0 / 4.0) + 1, 1e-6);
  const Eigen::MatrixXf d(m);
  // Doc 0: tf(red) = 1 + ln 2, tf(lipstick) = 1, then L2 norm.
  const double red = (1 + std::log(2.0)) * v.idf()[1], lip = 1.0 * v.idf()[0];
  const double norm = std::sqrt(red * red + lip * lip);
  EXPECT_NEAR(d(0, 1), red / norm, 1e-6);
  EXPECT_NEAR(d(0, 0), lip / norm, 1e-6);
  EXPECT_NEAR(d.row(2).norm(), 1.0, 1e-6);  // "red" only
  EXPECT_NEAR(d(2, 1), 1.0, 1e-6);
}

TEST(RandomizedSvdTest, RecoversSingularValuesOfALowRankMatrix) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g(0.f, 1.f);
  Eigen::MatrixXf u(200, 5), w(5, 80);
  for (int i = 0; i < u.size(); ++i) u.data()[i] = g(rng);
  for (int i = 0; i < w.size(); ++i) w.data()[i] = g(rng);
  const Eigen::MatrixXf a = u * w;
  const SparseRowMatrix sparse = a.sparseView();
  RandomizedSvdOptions o;
  o.rank = 5;
  const RandomizedSvdResult r = randomized_svd(sparse, o);
  Eigen::JacobiSVD<Eigen::MatrixXd> exact(a.cast<double>());
  for (int i = 0; i < 5; ++i)
    EXPECT_NEAR(r.singular_values(i), exact.singularValues()(i), 1e-3 * exact.singularValues()(0));
  ASSERT_EQ(r.transformed.rows(), 200);
  ASSERT_EQ(r.transformed.cols(), 5);
  // U S has the same Gram matrix as A A^T restricted to the top components: here A itself.
  const Eigen::MatrixXd gram_a = (a * a.transpose()).cast<double>();
  const Eigen::MatrixXd gram_r = (r.transformed * r.transformed.transpose()).cast<double>();
  EXPECT_LT((gram_a - gram_r).norm() / gram_a.norm(), 1e-3);
}

TEST(TfidfFeaturesTest, SimilarTitlesAreCloserThanUnrelatedOnes) {
  std::vector<ItemRecord> items(6);
  const char* titles[] = {"matte red lipstick",   "red lipstick gloss",  "argan oil shampoo",
                          "shampoo for dry hair", "matte lipstick pink", "dry hair oil"};
  for (int i = 0; i < 6; ++i) items[i].title = titles[i];
  TfidfOptions o;
  o.dims = 4;
  TextFeatureStats s;
  const RowMatrix x = tfidf_svd_embeddings(items, o, &s);
  ASSERT_EQ(x.rows(), 6);
  ASSERT_EQ(x.cols(), 4);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(x.row(i).norm(), 1.0, 1e-5);
  EXPECT_GT(x.row(0).dot(x.row(1)), x.row(0).dot(x.row(2)));
  EXPECT_GT(x.row(3).dot(x.row(5)), x.row(3).dot(x.row(4)));
  EXPECT_GT(s.vocabulary, 3u);
}

TEST(TfidfFeaturesTest, RejectsUnknownField) {
  TfidfOptions o;
  o.field = "brand";
  EXPECT_THROW(o.validate(), Error);
}

}  // namespace
}  // namespace recsys::indexer
