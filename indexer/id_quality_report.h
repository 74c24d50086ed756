// Quality report of a semantic-ID map: collisions before the suffix, codebook usage and perplexity
// per level, items per prefix, AMI/NMI of the first code against the item categories, and for a
// few first-level codes the most frequent title words and categories. Torch-free; printable as a
// table and serialisable as JSON.
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

  // Signs that the map is weak for generative retrieval, one sentence each (none: empty): most
  // items told apart only by the arbitrary collision suffix, or a first position that leaves most
  // of its codes unused. to_table() prints them last; to_json() lists them under "warnings".
  std::vector<std::string> warnings() const;

  std::string to_table() const;
  std::string to_json(int indent = 2) const;
};

// `map` holds full IDs (codes then the collision suffix); items[i] is the record of item i.
IdQualityReport make_id_quality_report(const IdMap& map, const std::vector<ItemRecord>& items,
                                       const IdQualityOptions& options = {});

// The second-level category of an item (categories[0][1]) or "" when absent, and its leaf path
// (categories[0] joined with " > ") or "" when absent.
std::string second_level_category(const ItemRecord& item);
std::string leaf_category_path(const ItemRecord& item);

}  // namespace recsys::indexer
