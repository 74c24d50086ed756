// Small synthetic datasets and ID maps for the seqrec tests.
#pragma once

#include <random>
#include <set>

#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::seqrec::testing {

// Every user walks the catalogue in steps of +1 from a random start: the next item is always
// last + 1 (mod num_items), which a model can learn perfectly.
inline Dataset cyclic_dataset(size_t num_items, size_t num_users, size_t length, uint64_t seed) {
  Dataset ds;
  ds.name = "cyclic";
  ds.items.resize(num_items);
  for (size_t i = 0; i < num_items; ++i) {
    ds.items[i].external_id = "I" + std::to_string(i);
    ds.items[i].title = "item " + std::to_string(i);
  }
  std::mt19937_64 rng(seed);
  for (size_t u = 0; u < num_users; ++u) {
    UserRecord user;
    user.external_id = "U" + std::to_string(u);
    const size_t start = rng() % num_items;
    for (size_t j = 0; j < length; ++j) {
      user.items.push_back(static_cast<ItemIndex>((start + j) % num_items));
      user.timestamps.push_back(static_cast<int64_t>(j));
    }
    ds.users.push_back(std::move(user));
  }
  ds.finalize_stats();
  return ds;
}

// Random unique IDs: codes drawn uniformly per position, the suffix set to make them unique.
inline IdMap random_id_map(size_t num_items, std::vector<uint32_t> code_vocab, uint32_t suffix,
                           uint64_t seed) {
  IdMap map;
  map.name = "random";
  map.method = "random";
  map.vocab = code_vocab;
  map.vocab.push_back(suffix);
  std::mt19937_64 rng(seed);
  std::set<SemanticId> used;
  for (size_t i = 0; i < num_items; ++i) {
    for (int attempt = 0;; ++attempt) {
      SemanticId id;
      for (uint32_t v : code_vocab) id.push_back(static_cast<Token>(rng() % v));
      bool placed = false;
      for (uint32_t s = 0; s < suffix; ++s) {
        id.push_back(static_cast<Token>(s));
        if (used.insert(id).second) {
          placed = true;
          break;
        }
        id.pop_back();
      }
      if (placed) {
        map.ids.push_back(id);
        break;
      }
    }
  }
  return map;
}

}  // namespace recsys::seqrec::testing
