#include "recsys/types.h"

#include <gtest/gtest.h>

#include "recsys/error.h"
#include "recsys/id_map.h"

namespace recsys {
namespace {

TEST(SemanticIdTest, FormatAndParseRoundTrip) {
  SemanticId id{12, 7, 201, 0};
  EXPECT_EQ(format_semantic_id(id), "12-7-201-0");
  EXPECT_EQ(parse_semantic_id("12-7-201-0"), id);
}

TEST(SemanticIdTest, ParseRejectsMalformed) {
  EXPECT_THROW(parse_semantic_id(""), Error);
  EXPECT_THROW(parse_semantic_id("1--2"), Error);
  EXPECT_THROW(parse_semantic_id("1-2-"), Error);
  EXPECT_THROW(parse_semantic_id("a-2"), Error);
  EXPECT_THROW(parse_semantic_id("70000"), Error);
}

TEST(DatasetTest, StatsCountLeaveOneOutSplit) {
  Dataset d;
  d.items.resize(4);
  d.items[0].title = "x";
  d.users.push_back({"u1", {0, 1, 2, 3}, {1, 2, 3, 4}});
  d.users.push_back({"u2", {1, 2}, {1, 2}});
  d.finalize_stats();
  EXPECT_EQ(d.stats.num_interactions, 6u);
  EXPECT_EQ(d.stats.split.train_interactions, 3u);
  EXPECT_EQ(d.stats.split.valid_users, 1u);
  EXPECT_EQ(d.stats.split.test_users, 2u);
  EXPECT_EQ(d.stats.items_without_metadata, 3u);
}

TEST(IdMapTest, ValidateRejectsDuplicatesAndOutOfRange) {
  IdMap m;
  m.name = "t";
  m.vocab = {4, 2};
  m.ids = {{0, 0}, {0, 1}};
  EXPECT_NO_THROW(m.validate());
  m.ids.push_back({0, 1});
  EXPECT_THROW(m.validate(), Error);
  m.ids.back() = {4, 0};
  EXPECT_THROW(m.validate(), Error);
}

}  // namespace
}  // namespace recsys
