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

TEST(IdQualityReportTest, RejectsItemCountMismatch) {
  const IdMap map = make_id_map("t", "test", {{0}, {1}}, {2});
  EXPECT_THROW(make_id_quality_report(map, {ItemRecord{}}), Error);
}

}  // namespace
}  // namespace recsys::indexer
