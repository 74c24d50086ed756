// Ingest: finds the files of a dataset, reads them with the right format reader, filters
// (rating threshold, k-core to a fixed point), orders each user's interactions chronologically
// (stable: ties keep file order), optionally truncates histories, and builds the item text.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <string>

#include "datasets/raw_corpus.h"
#include "recsys/types.h"

namespace recsys::data {

struct PrepareOptions {
  std::string input;  // a dataset folder, or its name under one of data_dirs
  std::string data_dirs = "data:../shared/datasets";  // ':'-separated search roots for `input`
  std::string format = "auto";  // auto|amazon2014|amazon2018|amazon2023|recbole|movielens
  std::string reviews;          // explicit interaction file (overrides discovery)
  std::string meta;             // explicit item file (overrides discovery)
  int kcore = 0;          // 0 = no filtering; k >= 1 keeps users and items with >= k interactions
  double min_rating = 0;  // keep interactions rated >= this (records without rating are kept)
  int max_history = 0;    // keep each user's most recent N interactions (0 = all)
  std::string text_fields = "title,brand,categories,description";
  std::string on_bad_record = "fail";  // fail|skip
  std::string name;                    // dataset name (default: folder name)

  void validate() const;
  void add_options(boost::program_options::options_description& desc);
  std::string to_json() const;
};

// The files a dataset folder resolves to.
struct SourceFiles {
  std::string format;
  std::string interactions;
  std::string items;  // may be empty
  std::string name;
};

SourceFiles resolve_sources(const PrepareOptions& options);

// Reads the sources into a raw corpus (parallel parsing).
RawCorpus read_sources(const SourceFiles& sources, const PrepareOptions& options);

// Filters, orders and indexes a raw corpus into a dataset (stats filled).
Dataset build_dataset(RawCorpus corpus, const PrepareOptions& options);

// resolve_sources + read_sources + build_dataset, with progress lines.
Dataset prepare_dataset(const PrepareOptions& options);

// K-core filter on (user, item) pairs, iterated to a fixed point. Returns the mask
// of kept interactions.
std::vector<bool> kcore_mask(const std::vector<uint32_t>& users, const std::vector<uint32_t>& items,
                             size_t num_users, size_t num_items, int k);

}  // namespace recsys::data
