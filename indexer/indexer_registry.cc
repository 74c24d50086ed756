#include "indexer/indexer_registry.h"

#include "indexer/hierarchical_kmeans.h"
#include "indexer/random_indexer.h"
#include "indexer/residual_kmeans.h"
#include "indexer/rq_vae_indexer.h"
#include "recsys/error.h"

namespace recsys::indexer {

void IndexerRegistry::add(const std::string& name, const std::string& summary, Factory factory) {
  RECSYS_CHECK(entries_.emplace(name, Entry{summary, std::move(factory)}).second, "indexer '", name,
               "' registered twice");
}

std::vector<std::string> IndexerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

std::string IndexerRegistry::summary(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? "" : it->second.summary;
}

std::unique_ptr<Indexer> IndexerRegistry::create(const std::string& name,
                                                 const IndexerOptions& options) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string valid;
    for (const auto& n : names()) valid += (valid.empty() ? "" : ", ") + n;
    RECSYS_THROW(ErrorCode::kInvalidArgument, "unknown indexer method '", name, "' (valid: ", valid,
                 ")");
  }
  return it->second.factory(options);
}

void register_builtin_indexers(IndexerRegistry& registry) {
  registry.add("rkmeans", "residual k-means, L levels x K codes",
               [](const IndexerOptions& o) { return std::make_unique<ResidualKMeans>(o); });
  registry.add("kmeans", "flat k-means, one level of K codes (levels ignored)",
               [](const IndexerOptions& o) {
                 IndexerOptions flat = o;
                 flat.levels = 1;
                 return std::make_unique<ResidualKMeans>(flat, "kmeans");
               });
  registry.add("hkmeans", "hierarchical k-means (DSI), branch factor K, depth L",
               [](const IndexerOptions& o) { return std::make_unique<HierarchicalKMeans>(o); });
  registry.add("random", "uniform random codes (control)",
               [](const IndexerOptions& o) { return std::make_unique<RandomIndexer>(o); });
  registry.add("rqvae", "RQ-VAE (TIGER): MLP autoencoder with residual quantiser, LibTorch",
               [](const IndexerOptions& o) { return make_rq_vae_indexer(o); });
}

}  // namespace recsys::indexer
