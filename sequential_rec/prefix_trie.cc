#include "sequential_rec/prefix_trie.h"

#include <algorithm>
#include <numeric>

#include "recsys/error.h"

namespace recsys::seqrec {

PrefixTrie::PrefixTrie(const std::vector<SemanticId>& ids) {
  const size_t depth = ids.empty() ? 0 : ids[0].size();
  for (size_t i = 0; i < ids.size(); ++i) {
    RECSYS_CHECK(ids[i].size() == depth, "semantic ID of item ", i, " has ", ids[i].size(),
                 " tokens, expected ", depth);
  }
  RECSYS_CHECK(ids.empty() || depth > 0, "semantic IDs must not be empty");
  std::vector<uint32_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  for (size_t i = 1; i < order.size(); ++i) {
    RECSYS_CHECK(ids[order[i]] != ids[order[i - 1]], "items ", order[i - 1], " and ", order[i],
                 " share the semantic ID ", format_semantic_id(ids[order[i]]));
  }

  // Level-by-level construction. A node at level l covers a contiguous range of `order` (the
  // sorted ids sharing its prefix); its children split that range by the token at position l.
  struct Range {
    uint32_t lo, hi;
  };
  nodes_.push_back({0, 0, static_cast<uint32_t>(order.size())});
  tokens_.push_back(0);
  items_.push_back(0);
  std::vector<Range> level = {{0, static_cast<uint32_t>(order.size())}};
  std::vector<NodeId> level_nodes = {kRoot};
  stats_.nodes_per_level.push_back(1);
  stats_.single_item_nodes_per_level.push_back(order.size() == 1);
  for (size_t pos = 0; pos < depth; ++pos) {
    std::vector<Range> next;
    std::vector<NodeId> next_nodes;
    size_t single = 0;
    for (size_t n = 0; n < level.size(); ++n) {
      Node& node = nodes_[level_nodes[n]];
      node.begin = static_cast<uint32_t>(nodes_.size());
      uint32_t i = level[n].lo;
      while (i < level[n].hi) {
        const Token t = ids[order[i]][pos];
        uint32_t j = i;
        while (j < level[n].hi && ids[order[j]][pos] == t) ++j;
        next_nodes.push_back(static_cast<NodeId>(nodes_.size()));
        next.push_back({i, j});
        tokens_.push_back(t);
        items_.push_back(pos + 1 == depth ? order[i] : 0);
        nodes_.push_back({0, 0, j - i});
        single += j - i == 1;
        i = j;
      }
      // nodes_ may have reallocated: index again.
      nodes_[level_nodes[n]].end = static_cast<uint32_t>(nodes_.size());
      stats_.max_branching = std::max<size_t>(
          stats_.max_branching, nodes_[level_nodes[n]].end - nodes_[level_nodes[n]].begin);
    }
    level = std::move(next);
    level_nodes = std::move(next_nodes);
    stats_.nodes_per_level.push_back(level.size());
    stats_.single_item_nodes_per_level.push_back(single);
  }
  stats_.num_items = ids.size();
  stats_.num_nodes = nodes_.size();
  stats_.depth = depth;
}

std::optional<PrefixTrie::NodeId> PrefixTrie::child(NodeId node, Token token) const {
  const Node& n = nodes_[node];
  const Token* first = tokens_.data() + n.begin;
  const Token* last = tokens_.data() + n.end;
  const Token* it = std::lower_bound(first, last, token);
  if (it == last || *it != token) return std::nullopt;
  return static_cast<NodeId>(it - tokens_.data());
}

std::optional<PrefixTrie::NodeId> PrefixTrie::find(const Token* prefix, size_t length) const {
  if (nodes_.empty() || length > stats_.depth) return std::nullopt;
  NodeId node = kRoot;
  for (size_t i = 0; i < length; ++i) {
    auto c = child(node, prefix[i]);
    if (!c) return std::nullopt;
    node = *c;
  }
  return node;
}

bool PrefixTrie::contains(const SemanticId& id) const {
  return id.size() == stats_.depth && find(id).has_value();
}

std::optional<ItemIndex> PrefixTrie::item(const SemanticId& id) const {
  if (id.size() != stats_.depth) return std::nullopt;
  auto node = find(id);
  if (!node) return std::nullopt;
  return items_[*node];
}

}  // namespace recsys::seqrec
