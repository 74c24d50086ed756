// Prefix trie of the valid semantic IDs of a catalogue. Constrained beam search asks it which
// tokens may follow a prefix, so every finished beam is a real item. Plain class, no tensors.
//
// Layout: nodes are stored level by level; the children of a node are contiguous and sorted by
// token, so a lookup is a binary search over a small range.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::seqrec {

class PrefixTrie {
 public:
  using NodeId = uint32_t;
  static constexpr NodeId kRoot = 0;

  struct Stats {
    size_t num_items = 0;
    size_t num_nodes = 0;
    size_t depth = 0;
    std::vector<size_t> nodes_per_level;  // level 0 = root
    // Nodes of each level with exactly one item below them: a prefix that names an item.
    std::vector<size_t> single_item_nodes_per_level;
    size_t max_branching = 0;
  };

  PrefixTrie() = default;
  // Builds the trie of all ids; throws kInvalidArgument on ids of different lengths or duplicates.
  explicit PrefixTrie(const std::vector<SemanticId>& ids);
  static PrefixTrie from_id_map(const IdMap& map) { return PrefixTrie(map.ids); }

  size_t depth() const { return stats_.depth; }
  size_t num_items() const { return stats_.num_items; }
  const Stats& stats() const { return stats_; }

  // Child of `node` reached with `token`, or nullopt when that token is not allowed there.
  std::optional<NodeId> child(NodeId node, Token token) const;
  // Tokens allowed after `node`, in increasing order.
  const Token* child_tokens_begin(NodeId node) const { return &tokens_[nodes_[node].begin]; }
  size_t num_children(NodeId node) const { return nodes_[node].end - nodes_[node].begin; }
  // Items whose ID starts with the prefix of `node`.
  size_t num_items_below(NodeId node) const { return nodes_[node].items; }
  NodeId first_child(NodeId node) const { return nodes_[node].begin; }
  // Token that leads to `node` from its parent (0 for the root).
  Token token(NodeId node) const { return tokens_[node]; }
  // Node reached by `prefix` from the root, or nullopt when the prefix is not valid.
  std::optional<NodeId> find(const Token* prefix, size_t length) const;
  std::optional<NodeId> find(const SemanticId& prefix) const {
    return find(prefix.data(), prefix.size());
  }
  bool contains(const SemanticId& id) const;
  // Item of a full-length ID, or nullopt.
  std::optional<ItemIndex> item(const SemanticId& id) const;
  // Item stored at a leaf node (nodes at depth() only).
  ItemIndex leaf_item(NodeId leaf) const { return items_[leaf]; }
  bool is_leaf(NodeId node) const { return nodes_[node].begin == nodes_[node].end; }

 private:
  struct Node {
    uint32_t begin = 0;  // children are nodes [begin, end)
    uint32_t end = 0;
    uint32_t items = 0;  // items below
  };
  std::vector<Node> nodes_;
  std::vector<Token> tokens_;     // tokens_[n] = token that leads to node n (0 for the root)
  std::vector<ItemIndex> items_;  // items_[n] = item of leaf n (unused for inner nodes)
  Stats stats_;
};

}  // namespace recsys::seqrec
