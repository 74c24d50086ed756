// Collision resolution for semantic IDs: appends one final token that numbers the items sharing
// the same code tuple (0, 1, 2, ... in item order), so every item's full ID is unique. The suffix
// vocabulary is the size of the largest collision group.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::indexer {

struct CollisionStats {
  uint64_t num_items = 0;
  uint64_t distinct_codes = 0;   // distinct code tuples before the suffix
  uint64_t items_colliding = 0;  // items sharing their tuple with at least one other item
  uint64_t largest_group = 0;    // items in the largest group (1 = no collision)
  uint32_t suffix_vocab = 0;     // = largest_group (>= 1 when there is any item)
  double collision_rate() const { return num_items ? double(items_colliding) / num_items : 0.0; }
};

// Counts collisions among `codes` (all of the same length) without changing them.
CollisionStats collision_stats(const std::vector<SemanticId>& codes);

// Returns codes[i] + {suffix}; fills *stats when given. Throws kInvalidArgument if the codes have
// different lengths or a group exceeds the Token range.
std::vector<SemanticId> add_collision_suffix(const std::vector<SemanticId>& codes,
                                             CollisionStats* stats = nullptr);

// Builds a complete, validated IdMap from per-level codes (without suffix) and their per-level
// vocabulary sizes: appends the suffix and its vocabulary.
IdMap make_id_map(const std::string& name, const std::string& method,
                  const std::vector<SemanticId>& codes, std::vector<uint32_t> code_vocab,
                  CollisionStats* stats = nullptr);

}  // namespace recsys::indexer
