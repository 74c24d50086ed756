// The two-stage indexer interface: item feature vectors in, L codes per item out. The collision
// suffix, the IdMap and the quality report are added by build_id_map(), the same for every method.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "indexer/id_quality_report.h"
#include "indexer/matrix.h"
#include "recsys/id_map.h"
#include "recsys/types.h"

namespace recsys::indexer {

// Options shared by the built-in indexers; each reads the fields it needs.
struct IndexerOptions {
  uint32_t levels = 3;           // code positions before the suffix
  uint32_t codebook_size = 256;  // codes per position (hkmeans: branch factor)
  uint64_t seed = 0;
  // k-means family
  uint32_t kmeans_iterations = 100;
  uint32_t kmeans_restarts = 1;
  // RQ-VAE (TIGER)
  std::vector<int64_t> rqvae_hidden = {768, 512, 256};  // encoder MLP; decoder mirrors it
  int64_t rqvae_latent = 32;
  double rqvae_beta = 0.25;  // commitment weight
  uint32_t rqvae_epochs = 60;
  uint32_t rqvae_batch_size = 256;
  double rqvae_lr = 1e-3;  // AdamW
  double rqvae_weight_decay = 1e-4;
  uint32_t rqvae_reset_every = 5;  // epochs between dead-code resets (0 = never)
  bool rqvae_standardize = true;   // z-score the input features
  int rqvae_threads = 0;           // LibTorch intra-op threads (0 = leave as is)
  void validate() const;
};

struct CodeAssignment {
  std::vector<SemanticId> codes;  // codes[item], `levels` tokens each, without suffix
  std::vector<uint32_t> vocab;    // per position
  std::string config_json;        // effective configuration of the method
  std::string training_json;      // method-specific training log (may be empty)
};

class Indexer {
 public:
  virtual ~Indexer() = default;
  virtual std::string method() const = 0;
  // features: [N, D], row i = item i.
  virtual CodeAssignment assign(const RowMatrix& features) = 0;
};

// Runs `indexer`, appends the collision suffix and attaches config and quality report.
// features_json describes the features (stored in the config). items[i] is item i's record; the
// users' sequences (may be empty) give the report's sequence coherence.
IdMap build_id_map(Indexer& indexer, const RowMatrix& features,
                   const std::vector<ItemRecord>& items, const std::vector<UserRecord>& users,
                   const std::string& name, const std::string& features_json = "{}",
                   IdQualityReport* report = nullptr);

}  // namespace recsys::indexer
