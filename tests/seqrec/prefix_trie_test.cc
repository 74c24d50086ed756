#include "sequential_rec/prefix_trie.h"

#include <gtest/gtest.h>

#include "recsys/error.h"
#include "tests/seqrec/synthetic.h"

namespace recsys::seqrec {
namespace {

TEST(PrefixTrieTest, FindsEveryItemAndCountsNodes) {
  std::vector<SemanticId> ids = {{1, 2, 0}, {1, 2, 1}, {1, 3, 0}, {0, 2, 0}};
  PrefixTrie trie(ids);
  EXPECT_EQ(trie.depth(), 3u);
  EXPECT_EQ(trie.num_items(), 4u);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(trie.item(ids[i]), ItemIndex(i));
  // root, {0,1}, {0-2, 1-2, 1-3}, 4 leaves
  EXPECT_EQ(trie.stats().nodes_per_level, (std::vector<size_t>{1, 2, 3, 4}));
  // Prefixes naming one item: {0}; {0-2}, {1-3}; every leaf.
  EXPECT_EQ(trie.stats().single_item_nodes_per_level, (std::vector<size_t>{0, 1, 2, 4}));
  auto node = trie.find(SemanticId{1});
  ASSERT_TRUE(node);
  EXPECT_EQ(trie.num_items_below(*node), 3u);
  EXPECT_EQ(trie.num_items_below(PrefixTrie::kRoot), 4u);
  EXPECT_EQ(trie.num_items_below(*trie.find(SemanticId{1, 2})), 2u);
  ASSERT_EQ(trie.num_children(*node), 2u);
  EXPECT_EQ(trie.child_tokens_begin(*node)[0], 2);
  EXPECT_EQ(trie.child_tokens_begin(*node)[1], 3);
  EXPECT_EQ(trie.token(trie.first_child(*node)), 2);
  EXPECT_EQ(trie.token(*trie.find(SemanticId{1, 3})), 3);
}

TEST(PrefixTrieTest, RejectsUnknownPrefix) {
  PrefixTrie trie(std::vector<SemanticId>{{1, 2, 0}, {1, 3, 0}});
  EXPECT_FALSE(trie.find(SemanticId{2}));
  EXPECT_FALSE(trie.find(SemanticId{1, 4}));
  EXPECT_FALSE(trie.contains(SemanticId{1, 2}));  // a prefix is not an item
  EXPECT_FALSE(trie.item(SemanticId{1, 2, 1}));
  EXPECT_FALSE(trie.find(SemanticId{1, 2, 0, 0}));
}

TEST(PrefixTrieTest, RejectsDuplicateAndRaggedIds) {
  EXPECT_THROW(PrefixTrie(std::vector<SemanticId>{{1, 2}, {1, 2}}), Error);
  EXPECT_THROW(PrefixTrie(std::vector<SemanticId>{{1, 2}, {1}}), Error);
}

TEST(PrefixTrieTest, ChildrenEnumerateExactlyTheValidIds) {
  // Walking every child path from the root yields exactly the catalogue, nothing else.
  IdMap map = testing::random_id_map(500, {8, 8, 8}, 4, 7);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  std::set<SemanticId> seen;
  std::vector<std::pair<PrefixTrie::NodeId, SemanticId>> stack = {{PrefixTrie::kRoot, {}}};
  while (!stack.empty()) {
    auto [node, prefix] = stack.back();
    stack.pop_back();
    if (prefix.size() == trie.depth()) {
      EXPECT_TRUE(trie.is_leaf(node));
      seen.insert(prefix);
      EXPECT_EQ(map.ids[trie.leaf_item(node)], prefix);
      continue;
    }
    for (size_t c = 0; c < trie.num_children(node); ++c) {
      SemanticId next = prefix;
      next.push_back(trie.child_tokens_begin(node)[c]);
      stack.push_back({trie.first_child(node) + static_cast<uint32_t>(c), next});
    }
  }
  EXPECT_EQ(seen, std::set<SemanticId>(map.ids.begin(), map.ids.end()));
}

}  // namespace
}  // namespace recsys::seqrec
