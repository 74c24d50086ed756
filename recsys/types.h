// Core value types shared by every component: item/user records, the in-memory dataset, semantic
// IDs. No dependency beyond the standard library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recsys {

using ItemIndex = uint32_t;  // dense 0..num_items-1, assigned in order of first appearance
using UserIndex = uint32_t;  // dense 0..num_users-1
using Token = uint16_t;      // one code of a semantic ID

// A semantic ID: codes c1..cL followed by the collision suffix.
using SemanticId = std::vector<Token>;

struct ItemRecord {
  std::string external_id;  // ASIN, parent_asin, movieId, ...
  std::string title;
  std::string brand;
  std::string description;
  std::string price;
  std::vector<std::vector<std::string>> categories;  // list of category paths
  std::string text;  // the item text built from the template at ingest time
};

struct UserRecord {
  std::string external_id;
  std::vector<ItemIndex> items;     // chronological (stable: ties keep file order)
  std::vector<int64_t> timestamps;  // seconds since epoch, parallel to items
};

// Leave-one-out view of one user: the last item is the test target, the one before the
// validation target, the rest is training history.
struct SplitSizes {
  uint64_t train_interactions = 0;
  uint64_t valid_users = 0;
  uint64_t test_users = 0;
};

struct DatasetStats {
  uint64_t num_users = 0;
  uint64_t num_items = 0;
  uint64_t num_interactions = 0;
  uint64_t items_without_metadata = 0;
  uint64_t skipped_records = 0;
  SplitSizes split;
  double density() const {
    return num_users && num_items ? double(num_interactions) / (double(num_users) * num_items)
                                  : 0.0;
  }
};

struct Dataset {
  std::string name;
  std::vector<ItemRecord> items;
  std::vector<UserRecord> users;
  DatasetStats stats;  // filled by finalize_stats()
  void finalize_stats();
};

// Renders a semantic ID as "12-7-201-0".
std::string format_semantic_id(const SemanticId& id);
// Parses "12-7-201-0"; throws kInvalidArgument on anything else.
SemanticId parse_semantic_id(const std::string& text);

}  // namespace recsys
