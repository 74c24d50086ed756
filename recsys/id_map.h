// A semantic-ID map: for every item of a dataset, its ID tokens (codes c1..cL, then the collision
// suffix). Produced by indexer/, stored by storage/, read by sequential_rec/ and the server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recsys/types.h"

namespace recsys {

struct IdMap {
  std::string name;             // e.g. "rqvae", "rkmeans", "lmindexer"
  std::string method;           // the indexer that produced it
  std::vector<uint32_t> vocab;  // vocabulary size per position, suffix last
  std::vector<SemanticId> ids;  // ids[item], all of length vocab.size()
  std::string config_json;      // effective config of the indexer
  std::string report_json;      // quality report, may be empty

  size_t length() const { return vocab.size(); }
  size_t num_items() const { return ids.size(); }
  // Throws kCorruption unless every id has length() tokens within vocab and ids are unique.
  void validate() const;
};

}  // namespace recsys
