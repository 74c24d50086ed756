#include "indexer/id_quality_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

ItemRecord item(const std::string& title, const std::string& second, const std::string& leaf) {
  ItemRecord r;
  r.title = title;
  r.categories = {{"Beauty", second, leaf}};
  return r;
}

TEST(IdQualityReportTest, CountsCollisionsUsageAndCategoryAgreement) {
  std::vector<ItemRecord> items = {
      item("Red Lipstick Matte", "Makeup", "Lips"),
      item("Pink Lipstick Gloss", "Makeup", "Lips"),
      item("Dry Shampoo", "Hair Care", "Shampoos"),
      item("Argan Shampoo", "Hair Care", "Shampoos"),
  };
  // First code separates Makeup from Hair Care perfectly; items 2 and 3 collide on (1, 0).
  const IdMap map = make_id_map("t", "test", {{0, 0}, {0, 1}, {1, 0}, {1, 0}}, {4, 2});
  const IdQualityReport r = make_id_quality_report(map, items);
  EXPECT_TRUE(r.ids_unique);
  EXPECT_EQ(r.code_levels, 2u);
  EXPECT_EQ(r.collisions.items_colliding, 2u);
  EXPECT_EQ(r.collisions.largest_group, 2u);
  ASSERT_EQ(r.levels.size(), 3u);
  EXPECT_EQ(r.levels[0].used, 2u);
  EXPECT_DOUBLE_EQ(r.levels[0].usage, 0.5);
  EXPECT_NEAR(r.levels[0].perplexity, 2.0, 1e-9);
  EXPECT_EQ(r.levels[2].vocab, 2u);  // suffix
  ASSERT_EQ(r.prefixes.size(), 2u);
  EXPECT_EQ(r.prefixes[0].prefixes, 2u);
  EXPECT_EQ(r.prefixes[1].max_items, 2u);
  ASSERT_EQ(r.first_code_vs_categories.size(), 2u);
  EXPECT_NEAR(r.first_code_vs_categories[0].ami, 1.0, 1e-9);
  EXPECT_NEAR(r.first_code_vs_categories[0].nmi, 1.0, 1e-9);
  ASSERT_FALSE(r.examples.empty());
  EXPECT_EQ(r.examples[0].title_words[0].first, "lipstick");
  EXPECT_EQ(r.examples[0].categories[0].first, "Makeup");

  const auto j = nlohmann::json::parse(r.to_json());
  EXPECT_EQ(j["collisions"]["largest_group"], 2);
  EXPECT_EQ(j["levels"].size(), 3u);
  EXPECT_NE(r.to_table().find("AMI"), std::string::npos);
  // Half the items colliding and half the first-level codes used: at the thresholds, no warning.
  EXPECT_TRUE(r.warnings().empty());
  EXPECT_TRUE(j["warnings"].empty());
  EXPECT_EQ(r.to_table().find("warning"), std::string::npos);
}

TEST(IdQualityReportTest, WarnsWhenTheSuffixCarriesMostIdentityAndTheFirstCodeCollapsed) {
  // Eight items, first position of 8 codes: one code for seven items, five of them in one group.
  std::vector<ItemRecord> items(8, item("Lipstick", "Makeup", "Lips"));
  const IdMap map = make_id_map(
      "t", "test", {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 1}, {0, 1}, {1, 0}}, {8, 2});
  const IdQualityReport r = make_id_quality_report(map, items);
  const auto w = r.warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("87.5% of items"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("largest group 5"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("position 1 uses 2 of its 8 codes"), std::string::npos) << w[1];
  EXPECT_NE(r.to_table().find("warning: 87.5% of items"), std::string::npos);
  const auto j = nlohmann::json::parse(r.to_json());
  ASSERT_EQ(j["warnings"].size(), 2u);
  EXPECT_EQ(j["warnings"][1], w[1]);

  // A small catalogue cannot use a large codebook: usage counts against the item count.
  const IdMap small = make_id_map("s", "test", {{0}, {1}, {2}}, {256});
  EXPECT_TRUE(make_id_quality_report(small, std::vector<ItemRecord>(3)).warnings().empty());
}

UserRecord user(std::vector<ItemIndex> items) {
  UserRecord u;
  u.timestamps.assign(items.size(), 0);
  u.items = std::move(items);
  return u;
}

TEST(IdQualityReportTest, SequenceCoherenceByHand) {
  // First codes: items 0, 1 -> 0; items 2, 3 -> 1. Second codes tell all four apart.
  const IdMap map = make_id_map("t", "test", {{0, 0}, {0, 1}, {1, 0}, {1, 1}}, {2, 2});
  // Training parts (last two items held out): [0 1 2], [2 3], [1 0]; the third user has none.
  // Validation targets: item 0 after [0 1 2], item 2 after [2 3], item 3 after [1 0].
  const std::vector<UserRecord> users = {user({0, 1, 2, 0, 3}), user({2, 3, 2, 1}), user({3}),
                                         user({1, 0, 3, 3})};
  const auto c = sequence_coherence(map, users);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].length, 1u);
  EXPECT_EQ(c[0].transitions, 4u);
  EXPECT_DOUBLE_EQ(c[0].next_shares, 3.0 / 4);  // all but 1 -> 2 keep the first code
  EXPECT_DOUBLE_EQ(c[0].by_chance, 25.0 / 49);  // code 0: 4 of 7 interactions, code 1: 3
  EXPECT_DOUBLE_EQ(c[0].lift(), (3.0 / 4) / (25.0 / 49));
  EXPECT_EQ(c[0].targets, 3u);
  EXPECT_DOUBLE_EQ(c[0].target_follows, 1.0 / 3);     // 3 -> 2 only
  EXPECT_DOUBLE_EQ(c[0].target_in_history, 2.0 / 3);  // not item 3 after [1 0]
  EXPECT_EQ(c[1].transitions, 4u);
  EXPECT_DOUBLE_EQ(c[1].next_shares, 0.0);
  EXPECT_DOUBLE_EQ(c[1].by_chance, 13.0 / 49);  // items 0, 1, 2 twice, item 3 once
  EXPECT_DOUBLE_EQ(c[1].target_follows, 0.0);
  EXPECT_DOUBLE_EQ(c[1].target_in_history, 2.0 / 3);  // items 0 and 2 were bought before

  const IdQualityReport r = make_id_quality_report(map, std::vector<ItemRecord>(4), users);
  ASSERT_EQ(r.coherence.size(), 2u);
  EXPECT_DOUBLE_EQ(r.coherence[0].next_shares, 3.0 / 4);
  const auto j = nlohmann::json::parse(r.to_json());
  EXPECT_DOUBLE_EQ(j["sequence_coherence"][0]["lift"].get<double>(), (3.0 / 4) / (25.0 / 49));
  EXPECT_NE(r.to_table().find("sequence coherence"), std::string::npos);
  EXPECT_TRUE(make_id_quality_report(map, std::vector<ItemRecord>(4)).coherence.empty());

  EXPECT_THROW(sequence_coherence(map, {user({0, 7, 1})}), Error);  // item outside the map
}

TEST(IdQualityReportTest, RejectsItemCountMismatch) {
  const IdMap map = make_id_map("t", "test", {{0}, {1}}, {2});
  EXPECT_THROW(make_id_quality_report(map, {ItemRecord{}}), Error);
}

}  // namespace
}  // namespace recsys::indexer
