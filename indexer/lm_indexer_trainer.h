// The progressive LMIndexer schedule, one ID position t at a time:
//   1. warm-up: train the reconstructor (codes c_<t fixed, masked text), and by default the
//      encoder too, feeding h_t unquantised (warmup_encoder; false = the paper's reconstructor
//      alone);
//   2. compute h_t for all items and initialise the codebook E_t by k-means on them;
//   3. joint training of encoder, decoder, E_t and reconstructor with the reconstruction,
//      contrastive (t = 1: in-batch negatives, t >= 2: negatives sharing c_<t) and commitment
//      (earlier positions keep their codes) losses; E_<t stay frozen;
//   4. assign c_t to every item.
// After the last position, the codes of every position are regenerated from the final model
// (final_reassign), so that stored IDs equal the IDs assign() gives for the same text.
// A checkpoint is written after every epoch and after every assignment; every epoch reseeds the
// RNGs from (seed, position, phase, epoch), so a resumed run equals an uninterrupted one.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "indexer/lm_indexer.h"
#include "indexer/lm_indexer_model.h"
#include "indexer/tokenizer.h"

namespace recsys::indexer {

enum class LMIndexerPhase { kWarmup = 0, kJoint = 1 };

struct LMIndexerState {
  int64_t position = 0;  // next position to train; == L when complete
  LMIndexerPhase phase = LMIndexerPhase::kWarmup;
  int64_t epoch = 0;  // epochs completed in the current phase
};

class LMIndexerTrainer {
 public:
  // Prepares the tokenizer (trained on `texts` unless options.tokenizer_model), the token tensors
  // and a freshly initialised model.
  LMIndexerTrainer(const std::vector<std::string>& texts, LMIndexerOptions options);
  // Restores everything from a checkpoint; texts are not needed (tokens are in it).
  static std::unique_ptr<LMIndexerTrainer> load(const std::string& path);

  // Runs the schedule from the current state to the end (or stop_after_epochs). Returns true
  // when all positions are trained.
  bool run();

  // The stages, exposed for tests. `position` is 0-based.
  LMIndexerEpochStats train_epoch(int64_t position, LMIndexerPhase phase, int64_t epoch);
  void init_codebook(int64_t position);
  void assign_codes(int64_t position);
  // Regenerates all positions' codes from the current model and counts the changes.
  void reassign_all();
  // h_t of every item, eval mode: [N, d].
  torch::Tensor hidden_states(int64_t position);
  // Parameters trained in a phase (everything else is frozen during it).
  std::vector<torch::Tensor> phase_parameters(int64_t position, LMIndexerPhase phase);

  std::vector<SemanticId> assign(const std::vector<std::string>& texts);
  std::vector<SemanticId> codes() const;  // training items, positions trained so far
  double drift();                         // see LMIndexer::drift
  void save(const std::string& path) const;
  // After load(): take the runtime options (threads, checkpoint path, stop hook, ...) of a new
  // run, and check that `texts` are the ones the checkpoint was trained on.
  void adopt_runtime_options(const LMIndexerOptions& options,
                             const std::vector<std::string>& texts);

  bool complete() const { return state_.position >= int64_t(options_.id_length); }
  const LMIndexerState& state() const { return state_; }
  const LMIndexerOptions& options() const { return options_; }
  LMIndexerModel& model() { return model_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const torch::Tensor& code_tensor() const { return codes_; }  // [N, L] int64, -1 = not yet
  const std::vector<LMIndexerEpochStats>& history() const { return history_; }
  const std::vector<LMIndexerPositionStats>& position_stats() const { return position_stats_; }
  double training_seconds() const { return training_seconds_; }
  const LMIndexerReassignStats& reassign_stats() const { return reassign_; }
  uint64_t glove_matched() const { return glove_matched_; }

 private:
  LMIndexerTrainer() = default;
  // Builds the model (attaching script when the options name one) and seeds nothing itself.
  void build_model(std::optional<torch::jit::Module> script = std::nullopt);
  // Loads options_.encoder_script, sets script_hash_ and script_hidden_ (probed on one item).
  torch::jit::Module load_script();
  void init_from_glove();
  void update_position_stats(int64_t position);
  void tokenize(const std::vector<std::string>& texts, torch::Tensor& tokens,
                torch::Tensor& padding) const;
  void make_optimizer(int64_t position, LMIndexerPhase phase);
  std::vector<std::vector<int64_t>> epoch_batches(int64_t position, LMIndexerPhase phase,
                                                  uint64_t seed) const;
  torch::Tensor generate(const torch::Tensor& tokens, const torch::Tensor& padding,
                         int64_t positions);

  LMIndexerOptions options_;
  std::unique_ptr<Tokenizer> tokenizer_;
  torch::Tensor tokens_;   // [N, T] int64
  torch::Tensor padding_;  // [N, T] bool, true = padding
  torch::Tensor codes_;    // [N, L] int64, -1 until assigned
  uint64_t text_fingerprint_ = 0;
  LMIndexerModel model_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  LMIndexerState optimizer_stage_;  // position and phase optimizer_ was made for
  LMIndexerState state_;
  std::vector<LMIndexerEpochStats> history_;
  std::vector<LMIndexerPositionStats> position_stats_;
  double training_seconds_ = 0;
  LMIndexerReassignStats reassign_;
  uint64_t glove_matched_ = 0;
  uint64_t script_hash_ = 0;
  int64_t script_hidden_ = 0;
};

}  // namespace recsys::indexer
