// Quality report of a semantic-ID map: collisions before the suffix, codebook usage and perplexity
// per level, items per prefix, AMI/NMI of the first code against the item categories, and for a
// few first-level codes the most frequent title words and categories, and, given the users, how
// closely prefixes follow their sequences. Torch-free; printable as a table and serialisable as
// JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "indexer/collision_suffix.h"
#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::indexer {

struct IdQualityOptions {
  uint32_t example_codes = 5;  // first-level codes described (the most populated ones)
  uint32_t top_words = 8;      // title words / categories listed per example code
  uint32_t holdout = 2;        // last items of each user left out of sequence coherence
};

struct LevelUsage {
  uint32_t position = 0;
  uint32_t vocab = 0;
  uint32_t used = 0;      // distinct codes used at this position
  double usage = 0;       // used / vocab
  double perplexity = 0;  // exp(entropy of the code distribution)
};

struct PrefixStats {
  uint32_t length = 0;    // number of leading codes
  uint64_t prefixes = 0;  // distinct prefixes of that length
  double mean_items = 0;  // items per prefix
  uint64_t median_items = 0;
  uint64_t max_items = 0;
};

struct CategoryAgreement {
  std::string labels;  // "second_level" or "leaf_path"
  uint32_t num_labels = 0;
  uint64_t items_labelled = 0;  // items with such a category (the others are left out)
  double ami = 0;
  double nmi = 0;
};

// How closely a map's prefixes follow users' sequences (leave-one-out: the last `holdout` items of
// each user are the validation and test targets). Of the consecutive item pairs of the training
// part, the share whose first `length` codes agree, against the share two random training
// interactions agree by chance; and of the validation targets, the share whose prefix the last
// training item has, and the share whose prefix any training item of the user has. Features built
// from the training parts (collaborative features) make the first share partly in-sample; the
// validation shares are not. Random IDs give a lift near 1; a generative recommender can only
// use a prefix's signal when the prefix is predictable from the history.
struct SequenceCoherence {
  uint32_t length = 0;           // leading codes compared
  uint64_t transitions = 0;      // consecutive pairs in the training parts
  double next_shares = 0;        // share of them whose items share the prefix
  double by_chance = 0;          // sum over prefixes of (share of training interactions)^2
  uint64_t targets = 0;          // validation targets with a non-empty training part
  double target_follows = 0;     // share of them whose prefix the last training item has
  double target_in_history = 0;  // share of them whose prefix a training item of theirs has
  double lift() const { return by_chance > 0 ? next_shares / by_chance : 0; }
};

struct CodeExample {
  Token code = 0;
  uint64_t items = 0;
  std::vector<std::pair<std::string, uint64_t>> title_words;
  std::vector<std::pair<std::string, uint64_t>> categories;  // second-level categories
};

struct IdQualityReport {
  std::string name;
  std::string method;
  uint64_t num_items = 0;
  uint32_t code_levels = 0;        // positions before the suffix
  CollisionStats collisions;       // before the suffix
  bool ids_unique = false;         // full IDs (with suffix) unique
  std::vector<LevelUsage> levels;  // code positions, then the suffix
  std::vector<PrefixStats> prefixes;
  std::vector<CategoryAgreement> first_code_vs_categories;
  std::vector<CodeExample> examples;
  std::vector<SequenceCoherence> coherence;  // per prefix length; empty without users

  // Signs that the map is weak for generative retrieval, one sentence each (none: empty): most
  // items told apart only by the arbitrary collision suffix, or a first position that leaves most
  // of its codes unused. to_table() prints them last; to_json() lists them under "warnings".
  std::vector<std::string> warnings() const;

  std::string to_table() const;
  std::string to_json(int indent = 2) const;
};

// `map` holds full IDs (codes then the collision suffix); items[i] is the record of item i. With
// users, the report includes their sequence coherence (holdout: options.holdout).
IdQualityReport make_id_quality_report(const IdMap& map, const std::vector<ItemRecord>& items,
                                       const std::vector<UserRecord>& users = {},
                                       const IdQualityOptions& options = {});

// Sequence coherence of `map` for prefix lengths 1 .. code levels (see SequenceCoherence).
std::vector<SequenceCoherence> sequence_coherence(const IdMap& map,
                                                  const std::vector<UserRecord>& users,
                                                  uint32_t holdout = 2);

// The second-level category of an item (categories[0][1]) or "" when absent, and its leaf path
// (categories[0] joined with " > ") or "" when absent.
std::string second_level_category(const ItemRecord& item);
std::string leaf_category_path(const ItemRecord& item);

}  // namespace recsys::indexer
