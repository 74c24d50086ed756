#include "indexer/collision_suffix.h"

#include <gtest/gtest.h>

#include <set>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

TEST(CollisionSuffixTest, NumbersItemsSharingCodesInItemOrder) {
  const std::vector<SemanticId> codes = {{1, 2}, {3, 4}, {1, 2}, {1, 2}, {3, 5}};
  CollisionStats s;
  const auto ids = add_collision_suffix(codes, &s);
  EXPECT_EQ(ids[0], (SemanticId{1, 2, 0}));
  EXPECT_EQ(ids[2], (SemanticId{1, 2, 1}));
  EXPECT_EQ(ids[3], (SemanticId{1, 2, 2}));
  EXPECT_EQ(ids[1], (SemanticId{3, 4, 0}));
  EXPECT_EQ(s.items_colliding, 3u);
  EXPECT_EQ(s.largest_group, 3u);
  EXPECT_EQ(s.suffix_vocab, 3u);
  EXPECT_EQ(s.distinct_codes, 3u);
  EXPECT_DOUBLE_EQ(s.collision_rate(), 0.6);
  EXPECT_EQ(std::set<SemanticId>(ids.begin(), ids.end()).size(), ids.size());
}

TEST(CollisionSuffixTest, MakeIdMapAppendsSuffixVocabAndValidates) {
  const std::vector<SemanticId> codes = {{0}, {0}, {1}};
  const IdMap map = make_id_map("m", "test", codes, {2});
  EXPECT_EQ(map.vocab, (std::vector<uint32_t>{2, 2}));
  EXPECT_NO_THROW(map.validate());
  EXPECT_EQ(make_id_map("m", "test", {{0}, {1}}, {2}).vocab.back(), 1u);
}

TEST(CollisionSuffixTest, RejectsRaggedCodesAndWrongVocab) {
  EXPECT_THROW(add_collision_suffix({{1, 2}, {1}}), Error);
  EXPECT_THROW(make_id_map("m", "t", {{1, 2}}, {4}), Error);
  EXPECT_THROW(make_id_map("m", "t", {{5}}, {4}), Error);  // token outside vocabulary
}

}  // namespace
}  // namespace recsys::indexer
