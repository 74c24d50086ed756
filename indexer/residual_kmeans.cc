#include "indexer/residual_kmeans.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::indexer {

ResidualKMeans::ResidualKMeans(IndexerOptions options, std::string method)
    : options_(std::move(options)), method_(std::move(method)) {
  options_.validate();
}

CodeAssignment ResidualKMeans::assign(const RowMatrix& features) {
  const Eigen::Index n = features.rows();
  RECSYS_CHECK(n >= static_cast<Eigen::Index>(options_.codebook_size), method_, ": ", n,
               " items for ", options_.codebook_size, " codes per level");
  CodeAssignment out;
  out.codes.assign(n, SemanticId(options_.levels));
  out.vocab.assign(options_.levels, options_.codebook_size);
  codebooks_.clear();
  RowMatrix residual = features;
  nlohmann::json levels = nlohmann::json::array();
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t l = 0; l < options_.levels; ++l) {
    KMeansOptions ko;
    ko.k = options_.codebook_size;
    ko.max_iterations = options_.kmeans_iterations;
    ko.restarts = options_.kmeans_restarts;
    ko.seed = options_.seed + 1000003ULL * l;
    KMeans km(ko);
    km.fit(residual);
    const auto& labels = km.labels();
    for (Eigen::Index i = 0; i < n; ++i) {
      out.codes[i][l] = static_cast<Token>(labels[i]);
      residual.row(i) -= km.centroids().row(labels[i]);
    }
    codebooks_.push_back(km.centroids());
    uint32_t iterations = 0;
    for (const auto& s : km.stats())
      if (s.restart == km.best_restart()) iterations = s.iteration;
    levels.push_back({{"level", l}, {"inertia", km.inertia()}, {"iterations", iterations}});
    RECSYS_LOG(Info)
        << method_ << " level " << l + 1 << "/" << options_.levels << ": inertia " << km.inertia()
        << " after " << iterations << " iterations, "
        << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s";
  }
  out.config_json = nlohmann::json{
      {"levels", options_.levels},
      {"codebook_size", options_.codebook_size},
      {"kmeans_iterations", options_.kmeans_iterations},
      {"kmeans_restarts", options_.kmeans_restarts},
      {"seed",
       options_.seed}}.dump();
  out.training_json = nlohmann::json{{"levels", levels}}.dump();
  return out;
}

}  // namespace recsys::indexer
