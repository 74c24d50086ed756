// LMIndexer ("Language Models as Semantic Indexers", Jin et al.): learns semantic IDs for items
// from their text with a self-supervised transformer, one ID position at a time. This header is
// torch-free: options, per-epoch statistics and the LMIndexer facade (train, resume, load a
// checkpoint, assign IDs to new items). The networks are in lm_indexer_model.h, the progressive
// schedule in lm_indexer_trainer.h.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "indexer/tokenizer.h"
#include "recsys/types.h"

namespace recsys::indexer {

inline constexpr int64_t kLMIndexerCheckpointVersion = 1;

struct LMIndexerOptions {
  // --- IDs ---
  uint32_t id_length = 3;        // L code positions (the collision suffix comes after them)
  uint32_t codebook_size = 256;  // K codes per position
  // --- text ---
  std::string tokenizer_model;  // existing SentencePiece model (e.g. T5 spiece.model); "" = train
  uint32_t tokenizer_vocab = 8000;
  std::string tokenizer_type = "unigram";  // unigram | bpe
  uint32_t max_text_length = 32;           // tokens kept per item
  // --- network ---
  uint32_t d_model = 128;
  uint32_t heads = 4;
  uint32_t encoder_layers = 2;
  uint32_t decoder_layers = 1;
  uint32_t reconstructor_layers = 1;
  uint32_t feedforward = 256;
  double dropout = 0.1;
  // --- training, per ID position ---
  uint32_t warmup_epochs = 1;  // before the codebook exists: reconstructor (and encoder, below)
  // Warm-up also trains the encoder, feeding h_t to the reconstructor unquantised. The paper
  // starts from a pretrained T5 whose h_t is already semantic when k-means initialises E_t; a
  // from-scratch encoder needs this to give k-means something to cluster. false = paper's
  // reconstructor-only warm-up.
  bool warmup_encoder = true;
  uint32_t epochs = 3;  // joint training after the k-means codebook initialisation
  uint32_t batch_size = 256;
  double learning_rate = 1e-3;
  double mask_rate = 0.5;       // text mask rate at position 1 ...
  double mask_rate_step = 0.2;  // ... rising by this per position ...
  double max_mask_rate = 0.9;   // ... up to this
  double contrastive_weight = 0.1;
  double commitment_weight = 1.0;
  double temperature = 0.5;  // contrastive softmax temperature
  double grad_clip = 1.0;
  uint32_t kmeans_iterations = 50;
  uint64_t seed = 0;
  // --- runtime (not part of the trained state) ---
  int threads = 0;                 // LibTorch intra-op threads; 0 = leave as is
  std::string checkpoint_path;     // "" = no checkpoints
  bool resume = true;              // continue from checkpoint_path when it exists
  uint32_t stop_after_epochs = 0;  // test hook: return after this many epochs (0 = run to the end)
  double log_interval_seconds = 10;

  double mask_rate_at(uint32_t position) const;  // 0-based position
  void validate() const;
  // Binds every field to --lm-... style options (ID shape: --levels, --codebook-size, --seed).
  void add_options(boost::program_options::options_description& desc);
  // Options that define the trained state (everything but the runtime block), as JSON.
  std::string to_json() const;
};

struct LMIndexerEpochStats {
  uint32_t position = 0;  // 0-based ID position
  std::string phase;      // "warmup" or "joint"
  uint32_t epoch = 0;
  double reconstruction = 0;  // mean token cross-entropy on masked positions
  double contrastive = 0;
  double commitment = 0;
  double masked_accuracy = 0;  // reconstructed masked tokens that are right
  double seconds = 0;
  double items_per_second = 0;
};

struct LMIndexerPositionStats {
  uint32_t position = 0;
  uint32_t codes_used = 0;
  double perplexity = 0;
};

// Batches of item indices for position `t` >= 2 training: items are grouped by their prefix
// c_<t (prefixes[i]), groups and members shuffled with `seed`, the groups laid end to end and cut
// into batches, so in-batch negatives mostly share the prefix (hard negatives).
std::vector<std::vector<int64_t>> prefix_grouped_batches(const std::vector<SemanticId>& prefixes,
                                                         size_t batch_size, uint64_t seed);

class LMIndexerTrainer;

class LMIndexer {
 public:
  // Trains on `texts` (item i = texts[i]); resumes from options.checkpoint_path when it exists
  // and options.resume. With stop_after_epochs the result may be incomplete (complete() false).
  static LMIndexer train(const std::vector<std::string>& texts, const LMIndexerOptions& options);
  // Loads a checkpoint written by train(). Throws kNotFound, kCorruption, kUnsupported.
  static LMIndexer load(const std::string& checkpoint_path);

  LMIndexer(LMIndexer&&) noexcept;
  LMIndexer& operator=(LMIndexer&&) noexcept;
  ~LMIndexer();

  bool complete() const;
  const LMIndexerOptions& options() const;
  // Codes c_1..c_L of the training items (no collision suffix), as assigned during training.
  std::vector<SemanticId> codes() const;
  // Codes of new items generated by the trained model (no retraining, no suffix).
  std::vector<SemanticId> assign(const std::vector<std::string>& texts) const;
  // Fraction of training items whose regenerated codes (assign on their own text) differ from
  // codes(): how stable the earlier positions stayed while later ones were learned.
  double drift() const;
  const std::vector<LMIndexerEpochStats>& history() const;
  const std::vector<LMIndexerPositionStats>& position_stats() const;
  double training_seconds() const;
  void save(const std::string& checkpoint_path) const;
  LMIndexerTrainer& trainer();

 private:
  explicit LMIndexer(std::unique_ptr<LMIndexerTrainer> trainer);
  std::unique_ptr<LMIndexerTrainer> trainer_;
};

}  // namespace recsys::indexer
