#include "indexer/random_indexer.h"

#include <nlohmann/json.hpp>
#include <random>

namespace recsys::indexer {

RandomIndexer::RandomIndexer(IndexerOptions options) : options_(std::move(options)) {
  options_.validate();
}

CodeAssignment RandomIndexer::assign(const RowMatrix& features) {
  CodeAssignment out;
  std::mt19937_64 rng(options_.seed);
  std::uniform_int_distribution<uint32_t> code(0, options_.codebook_size - 1);
  out.codes.assign(features.rows(), SemanticId(options_.levels));
  for (auto& id : out.codes)
    for (auto& t : id) t = static_cast<Token>(code(rng));
  out.vocab.assign(options_.levels, options_.codebook_size);
  out.config_json = nlohmann::json{
      {"levels", options_.levels},
      {"codebook_size", options_.codebook_size},
      {"seed",
       options_.seed}}.dump();
  return out;
}

}  // namespace recsys::indexer
