#include "indexer/collision_suffix.h"

#include <algorithm>
#include <limits>
#include <map>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

void check_lengths(const std::vector<SemanticId>& codes) {
  for (size_t i = 1; i < codes.size(); ++i)
    RECSYS_CHECK(codes[i].size() == codes[0].size(), "collision suffix: item ", i, " has ",
                 codes[i].size(), " codes, item 0 has ", codes[0].size());
}

}  // namespace

CollisionStats collision_stats(const std::vector<SemanticId>& codes) {
  check_lengths(codes);
  std::map<SemanticId, uint64_t> groups;
  for (const auto& c : codes) ++groups[c];
  CollisionStats s;
  s.num_items = codes.size();
  s.distinct_codes = groups.size();
  for (const auto& [code, n] : groups) {
    if (n > 1) s.items_colliding += n;
    s.largest_group = std::max(s.largest_group, n);
  }
  s.suffix_vocab = static_cast<uint32_t>(s.largest_group);
  return s;
}

std::vector<SemanticId> add_collision_suffix(const std::vector<SemanticId>& codes,
                                             CollisionStats* stats) {
  const CollisionStats s = collision_stats(codes);
  RECSYS_CHECK(s.largest_group <= std::numeric_limits<Token>::max() + 1ULL,
               "collision suffix: a group of ", s.largest_group,
               " items shares one code tuple; more than a token can number");
  std::map<SemanticId, Token> next;
  std::vector<SemanticId> out(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    out[i] = codes[i];
    out[i].push_back(next[codes[i]]++);
  }
  if (stats) *stats = s;
  return out;
}

IdMap make_id_map(const std::string& name, const std::string& method,
                  const std::vector<SemanticId>& codes, std::vector<uint32_t> code_vocab,
                  CollisionStats* stats) {
  CollisionStats s;
  IdMap map;
  map.name = name;
  map.method = method;
  map.ids = add_collision_suffix(codes, &s);
  RECSYS_CHECK(codes.empty() || codes[0].size() == code_vocab.size(),
               "make_id_map: ", code_vocab.size(), " vocabulary sizes for IDs of ",
               codes.empty() ? 0 : codes[0].size(), " codes");
  map.vocab = std::move(code_vocab);
  map.vocab.push_back(std::max<uint32_t>(1, s.suffix_vocab));
  map.validate();
  if (stats) *stats = s;
  return map;
}

}  // namespace recsys::indexer
