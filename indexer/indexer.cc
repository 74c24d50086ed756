#include "indexer/indexer.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "indexer/collision_suffix.h"
#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {

void IndexerOptions::validate() const {
  RECSYS_CHECK(levels >= 1, "indexer: levels must be >= 1");
  RECSYS_CHECK(codebook_size >= 2 && codebook_size <= 65536,
               "indexer: codebook size must be in [2, 65536], got ", codebook_size);
  RECSYS_CHECK(kmeans_iterations >= 1 && kmeans_restarts >= 1,
               "indexer: k-means iterations and restarts must be >= 1");
  RECSYS_CHECK(!rqvae_hidden.empty() && rqvae_latent > 0, "indexer: bad RQ-VAE shape");
  for (int64_t width : rqvae_hidden)
    RECSYS_CHECK(width > 0, "indexer: RQ-VAE hidden widths must be positive, got ", width);
  RECSYS_CHECK(rqvae_beta >= 0, "indexer: RQ-VAE commitment weight beta must be >= 0, got ",
               rqvae_beta);
  RECSYS_CHECK(rqvae_epochs >= 1 && rqvae_batch_size >= 1 && rqvae_lr > 0,
               "indexer: RQ-VAE epochs, batch size and learning rate must be positive");
}

IdMap build_id_map(Indexer& indexer, const RowMatrix& features,
                   const std::vector<ItemRecord>& items, const std::vector<UserRecord>& users,
                   const std::string& name, const std::string& features_json,
                   IdQualityReport* report) {
  RECSYS_CHECK(static_cast<size_t>(features.rows()) == items.size(), "indexer: ", features.rows(),
               " feature rows for ", items.size(), " items");
  RECSYS_CHECK(features.allFinite(), "indexer: the item features have NaN or infinite values");
  const auto start = std::chrono::steady_clock::now();
  CodeAssignment a = indexer.assign(features);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RECSYS_CHECK(a.codes.size() == items.size(), "indexer ", indexer.method(), " returned ",
               a.codes.size(), " codes for ", items.size(), " items");
  IdMap map = make_id_map(name, indexer.method(), a.codes, a.vocab);
  nlohmann::json config;
  config["method"] = indexer.method();
  config["indexer"] = nlohmann::json::parse(a.config_json.empty() ? "{}" : a.config_json);
  config["features"] = nlohmann::json::parse(features_json.empty() ? "{}" : features_json);
  config["seconds"] = seconds;
  if (!a.training_json.empty()) config["training"] = nlohmann::json::parse(a.training_json);
  map.config_json = config.dump();
  IdQualityReport r = make_id_quality_report(map, items, users);
  map.report_json = r.to_json(-1);
  RECSYS_LOG(Info) << "indexer " << indexer.method() << ": " << items.size() << " items in "
                   << seconds << " s; " << r.collisions.items_colliding
                   << " items collide before the suffix (largest group "
                   << r.collisions.largest_group << ")";
  if (report) *report = std::move(r);
  return map;
}

}  // namespace recsys::indexer
