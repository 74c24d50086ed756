#include "indexer/collaborative_features.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

UserRecord user(const std::string& id, std::vector<ItemIndex> items) {
  UserRecord u;
  u.external_id = id;
  u.timestamps.assign(items.size(), 0);
  u.items = std::move(items);
  return u;
}

// Items 0-3 are bought together, so are 4-7; item 8 appears only as a held-out target.
Dataset two_communities() {
  Dataset d;
  d.items.resize(9);
  for (size_t i = 0; i < d.items.size(); ++i) d.items[i].external_id = "I" + std::to_string(i);
  d.users = {user("a", {0, 1, 2, 3, 8, 8}), user("b", {3, 2, 1, 0, 8, 0}),
             user("c", {1, 3, 0, 2, 1, 8}), user("d", {4, 5, 6, 7, 8, 4}),
             user("e", {7, 6, 5, 4, 5, 8}), user("f", {5, 7, 4, 6, 8, 8})};
  return d;
}

float cosine(const RowMatrix& x, int i, int j) { return x.row(i).dot(x.row(j)); }

TEST(CollaborativeFeaturesTest, CoPurchasedItemsAreCloseAndHeldOutItemsUnseen) {
  CollaborativeOptions o;
  o.dims = 2;  // one component per community
  o.window = 2;
  CollaborativeStats stats;
  const RowMatrix x = collaborative_embeddings(two_communities(), o, &stats);
  ASSERT_EQ(x.rows(), 9);
  ASSERT_EQ(x.cols(), 2);
  // Each user's first 4 items give 3 + 2 pairs within two positions: 6 users x 5.
  EXPECT_EQ(stats.pairs, 30u);
  EXPECT_EQ(stats.items_without_signal, 1u);
  EXPECT_EQ(x.row(8).norm(), 0.0f);  // only ever a validation or test target
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(x.row(i).norm(), 1.0f, 1e-5) << i;
  for (int i : {0, 1, 2, 3})
    for (int j : {4, 5, 6, 7}) {
      EXPECT_GT(cosine(x, i, (i + 1) % 4), cosine(x, i, j) + 0.5f) << i << " " << j;
      EXPECT_GT(cosine(x, j, 4 + (j + 1) % 4), cosine(x, j, i) + 0.5f) << j << " " << i;
    }
}

TEST(CollaborativeFeaturesTest, HoldoutZeroReadsWholeSequences) {
  CollaborativeOptions o;
  o.dims = 4;
  o.window = 1;
  o.holdout = 0;
  CollaborativeStats stats;
  const RowMatrix x = collaborative_embeddings(two_communities(), o, &stats);
  EXPECT_EQ(stats.pairs, 6u * 5u - 2u);  // adjacent pairs, less the two (8, 8)
  EXPECT_GT(x.row(8).norm(), 0.5f);
}

TEST(CollaborativeFeaturesTest, DeterministicForASeed) {
  CollaborativeOptions o;
  o.dims = 3;
  const RowMatrix a = collaborative_embeddings(two_communities(), o);
  const RowMatrix b = collaborative_embeddings(two_communities(), o);
  EXPECT_EQ(a, b);
  EXPECT_EQ(nlohmann::json::parse(o.to_json())["encoder"], "ppmi_svd");
}

TEST(CollaborativeFeaturesTest, RejectsBadOptionsAndData) {
  CollaborativeOptions o;
  o.window = 0;
  EXPECT_THROW(collaborative_embeddings(two_communities(), o), Error);
  o = {};
  o.dims = 0;
  EXPECT_THROW(collaborative_embeddings(two_communities(), o), Error);
  o = {};
  Dataset d = two_communities();
  d.users[0].items[1] = 42;  // outside the catalogue
  EXPECT_THROW(collaborative_embeddings(d, o), Error);
  Dataset lonely = two_communities();
  for (auto& u : lonely.users) u.items = {0, 1, 2};  // one training item each: no pair
  EXPECT_THROW(collaborative_embeddings(lonely, o), Error);
}

TEST(CollaborativeFeaturesTest, ConcatScalesTheSecondBlock) {
  RowMatrix a(2, 2), b(2, 1);
  a << 1, 2, 3, 4;
  b << 5, 6;
  const RowMatrix x = concat_features(a, b, 0.5f);
  RowMatrix want(2, 3);
  want << 1, 2, 2.5, 3, 4, 3;
  EXPECT_EQ(x, want);
  EXPECT_THROW(concat_features(a, RowMatrix(3, 1), 1.0f), Error);
  EXPECT_THROW(concat_features(a, b, -1.0f), Error);
}

}  // namespace
}  // namespace recsys::indexer
