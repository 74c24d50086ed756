// The RQ-VAE indexer (TIGER): standardises the features, initialises every codebook with residual
// k-means on the untrained encoder's latents, trains with AdamW (the paper's Adagrad collapses
// codebooks in published reproductions), re-seeds dead codes periodically, and reports loss parts
// and codebook usage per level. Torch-free header; the model is in indexer/rq_vae.h.
#pragma once

#include <memory>

#include "indexer/indexer.h"

namespace recsys::indexer {

struct RqVaeEpochStats {
  uint32_t epoch = 0;
  double loss = 0;  // mean over batches
  double reconstruction = 0;
  double quantization = 0;
  std::vector<double> usage;  // share of codes used per level, over the epoch
  uint32_t codes_reset = 0;   // dead codes re-seeded after this epoch
  double seconds = 0;
};

class RqVaeIndexer : public Indexer {
 public:
  explicit RqVaeIndexer(IndexerOptions options);
  ~RqVaeIndexer() override;
  std::string method() const override { return "rqvae"; }
  CodeAssignment assign(const RowMatrix& features) override;
  const std::vector<RqVaeEpochStats>& history() const { return history_; }

 private:
  IndexerOptions options_;
  std::vector<RqVaeEpochStats> history_;
};

std::unique_ptr<Indexer> make_rq_vae_indexer(const IndexerOptions& options);

}  // namespace recsys::indexer
