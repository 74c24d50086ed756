// Plain (torch-free) configuration structs of the sequential recommenders, the trainer and the
// evaluator. The CLI binds them to options; checkpoints save them as key = value lines.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace recsys::seqrec {

// Throws Error (kInvalidArgument) unless `precision` is "fp32" or "bf16".
void check_precision(const std::string& precision);

// TIGER-style encoder-decoder; defaults as published (4+4 layers, d_model 128, 6 heads x 64,
// feed-forward 1024, dropout 0.1, 2000 hashed user tokens, last 20 items of history).
struct TigerConfig {
  int64_t num_user_tokens = 2000;
  int64_t max_items = 20;
  int64_t d_model = 128;
  int64_t num_heads = 6;
  int64_t head_dim = 64;
  int64_t d_ff = 1024;
  int64_t encoder_layers = 4;
  int64_t decoder_layers = 4;
  double dropout = 0.1;
  // tokens: one encoder position per ID token, as published (1 + 4 x 20 positions for 4-token IDs);
  // items: one position per history item, the sum of its tokens' embeddings (1 + 20 positions).
  std::string encoder_input = "tokens";
  // Not in the published TIGER: the encoder also reads a learned embedding of each history item's
  // own index (one more token per item), so items with close IDs can be told apart. Generation
  // stays over semantic IDs. On Beauty it overfitted and lost test N@10 0.0058 (one seed; see
  // benchmarks/reports/seqrec_beauty.md, session 26).
  bool item_ids = false;
};

// SASRec baseline (item-ID causal self-attention, full-softmax cross-entropy).
struct SasRecConfig {
  int64_t d_model = 64;
  int64_t num_blocks = 2;
  int64_t num_heads = 1;
  int64_t max_len = 50;
  double dropout = 0.3;
};

struct ModelConfig {
  std::string model = "tiger";  // tiger | sasrec
  TigerConfig tiger;
  SasRecConfig sasrec;
  void validate() const;
};

struct EvalConfig {
  std::vector<size_t> ks = {5, 10, 20};
  int64_t beam_size = 20;          // TIGER: beam width of the constrained search
  bool exclude_history = false;    // drop the user's history items from the ranking
  int64_t batch_users = 256;       // users decoded together
  int64_t max_users = 0;           // evaluate an evenly spread subset of N users (0 = all)
  std::string precision = "fp32";  // fp32 | bf16
  void validate() const;
};

struct TrainConfig {
  std::string device = "cpu";      // cpu | cuda | cuda:N
  std::string precision = "fp32";  // fp32 | bf16 (autocast: matrix products in bfloat16)
  int threads = 2;                 // LibTorch intra-op threads
  uint64_t seed = 42;
  int64_t batch_size = 256;
  double lr = 2e-3;
  std::string schedule = "inverse_sqrt";  // inverse_sqrt | constant
  int64_t warmup_steps = 1000;
  // The last cooldown_steps steps of the budget scale the schedule's rate down linearly to
  // 1/cooldown_steps of it at the final step (0 = no cooldown). The budget is max_steps or, with
  // only max_minutes, the steps the time left allows at the speed so far (the trainer fixes the
  // end step when the cooldown begins, moves it in if the pace drops, and stops there).
  int64_t cooldown_steps = 0;
  double weight_decay = 0.01;
  double clip_norm = 1.0;  // 0 disables clipping
  double adam_beta2 = 0.98;
  int64_t max_epochs = 100;
  int64_t max_steps = 0;   // 0 = unlimited
  double max_minutes = 0;  // wall-time budget for training (0 = unlimited)
  int64_t patience = 5;    // evaluations without validation NDCG@10 improvement before stopping
  int64_t eval_every = 1;  // epochs between validation evaluations
  int64_t eval_users = 0;  // validation users used for early stopping (0 = all)
  // Each batch is sorted by sample length and cut into this many groups, each padded only to its
  // own longest sample; their gradients add up to the gradient of the whole (random) batch, so the
  // grouping saves padding without changing what a step learns. 1 = pad the batch to its longest.
  int64_t length_groups = 8;
  double log_interval_seconds = 10.0;
  std::string out_dir;  // checkpoint directory (empty = keep nothing on disk)
  bool resume = true;   // resume from out_dir when it holds a checkpoint
  EvalConfig eval;      // used for the early-stopping evaluation
  void validate() const;
};

// A cooldown whose end a time budget fixed: the rate's factor falls linearly from `factor` at step
// `from` to factor / (end - from + 1) at step `end`. from = 0 means the plain cooldown, the last
// cooldown_steps steps up to `end` from factor 1 (as when it begins; state.ini written before
// 1a879ec).
struct Cooldown {
  int64_t end = 0;  // 0 = none planned
  int64_t from = 0;
  double factor = 1.0;
};

// Learning rate of 1-based optimizer step `step`: linear warm-up, then constant or
// inverse-square-root decay, times the linear cooldown: the planned one, or the last
// cooldown_steps steps before config.max_steps (the earlier end when both are set).
double learning_rate(const TrainConfig& config, int64_t step, const Cooldown& planned = {});

// The time budget's cooldown after step `step`, with `seconds_left` of the budget at
// `seconds_per_step`. None yet: it begins once the time left covers no more than cooldown_steps
// steps (end = step + cooldown_steps, or clearly fewer: what the time covers, from the full rate).
// Planned: when the time left covers clearly fewer steps than
// remain (5%, at least 10 steps, short), the end moves in to what it covers and the factor falls
// from its current value to the new end, so a slower pace shortens the cooldown instead of the
// budget cutting it with the rate still high. Otherwise returns `current`.
Cooldown plan_cooldown(const TrainConfig& config, const Cooldown& current, int64_t step,
                       double seconds_left, double seconds_per_step);

// Flat key = value view of the configs, as written to checkpoints and reports.
using ConfigMap = std::map<std::string, std::string>;
ConfigMap to_config_map(const ModelConfig& config);
ModelConfig model_config_from_map(const ConfigMap& map);
ConfigMap to_config_map(const TrainConfig& config);
std::string write_config_lines(const ConfigMap& map);
ConfigMap read_config_lines(const std::string& text, const std::string& source);

}  // namespace recsys::seqrec
