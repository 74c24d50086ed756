// Torch-side interface the trainer and the registry use: a Recommender that can also build
// training batches and compute its loss. One implementation per model (tiger.cc, sasrec.cc).
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recsys/id_map.h"
#include "recsys/types.h"
#include "sequential_rec/recommender.h"

namespace recsys::seqrec::internal {

class ModelAdapter : public Recommender {
 public:
  ModelAdapter(const ModelConfig& config, size_t num_items, torch::Device device)
      : config_(config), num_items_(num_items), device_(device) {}
  const ModelConfig& config() const override { return config_; }
  size_t num_items() const override { return num_items_; }
  int64_t num_parameters() const override {
    int64_t n = 0;
    for (const auto& p : root_->parameters()) n += p.numel();
    return n;
  }
  torch::nn::Module& module() { return *root_; }

  // Training samples drawn from the leave-one-out training part of `dataset`.
  virtual void prepare_training(const Dataset& dataset) = 0;
  virtual size_t num_train_samples() const = 0;
  // Length of sample i (for bucketing: samples of similar length are batched together).
  virtual size_t sample_length(size_t i) const = 0;
  // Mean loss over the samples (builds tensors on the model's device). Must be safe to call from
  // several threads at once (the trainer shards a batch over the intra-op threads).
  virtual torch::Tensor loss(const std::vector<uint32_t>& samples) = 0;
  // Number of terms loss(samples) averages over (shards of a batch are weighted by it).
  virtual int64_t loss_terms(const std::vector<uint32_t>& samples) const = 0;
  // Extra key = value lines for the checkpoint config (map identity, catalogue size...).
  virtual ConfigMap identity() const = 0;

 protected:
  void set_root(torch::nn::Module& root) { root_ = &root; }
  ModelConfig config_;
  size_t num_items_;
  torch::Device device_;

 private:
  torch::nn::Module* root_ = nullptr;
};

// Indices of `queries` ordered by history length (batches of similar length pad little).
std::vector<size_t> order_by_history_length(const std::vector<Query>& queries);

using ModelFactory = std::function<std::unique_ptr<ModelAdapter>(
    const ModelConfig& config, size_t num_items, const IdMap* map, torch::Device device)>;

// Creates a model by name (throws kInvalidArgument listing the valid names).
std::unique_ptr<ModelAdapter> create_model(const ModelConfig& config, size_t num_items,
                                           const IdMap* map, torch::Device device);
// Checks that `identity` (from a checkpoint) matches the freshly created model's.
void check_identity(const ConfigMap& saved, const ConfigMap& current, const std::string& dir);

// Parses "cpu", "cuda", "cuda:1"; throws kUnsupported when CUDA is asked for and absent.
torch::Device parse_device(const std::string& name);

// Factories, registered by create_model().
std::unique_ptr<ModelAdapter> make_tiger(const ModelConfig& config, size_t num_items,
                                         const IdMap* map, torch::Device device);
std::unique_ptr<ModelAdapter> make_sasrec(const ModelConfig& config, size_t num_items,
                                          const IdMap* map, torch::Device device);

// Checkpoint directory layout.
inline constexpr const char* kConfigFile = "config.ini";  // model + train config, identity
inline constexpr const char* kStateFile = "state.ini";    // epoch, step, best metric, ...
inline constexpr const char* kLastWeights = "last.pt";    // weights at the last checkpoint
inline constexpr const char* kBestWeights = "best.pt";    // best validation NDCG@10
inline constexpr const char* kOptimizerFile = "optimizer.pt";
inline constexpr const char* kRngFile = "rng.pt";            // torch CPU generator state
// One JSON line per validation, and one per resume with changed settings ("resumed_at_step").
inline constexpr const char* kTrainLog = "train_log.jsonl";

// Writes via a temporary file and a rename, so a crash never leaves a torn file.
void save_module(torch::nn::Module& module, const std::string& path);
void load_module(torch::nn::Module& module, const std::string& path, torch::Device device);
std::string read_text_file(const std::string& path);
void write_text_file(const std::string& path, const std::string& text);

// Mixed precision: with bf16, matrix products run in bfloat16 (autocast), weights, residual
// stream, softmax and scores stay float32. Restores the previous state on exit.
class AutocastGuard {
 public:
  AutocastGuard(bool bf16, torch::Device device) : enabled_(bf16), cuda_(device.is_cuda()) {
    if (!enabled_) return;
    if (cuda_) {
      prev_ = at::autocast::is_enabled();
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      prev_ = at::autocast::is_cpu_enabled();
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
      at::autocast::set_enabled(prev_);
    } else {
      at::autocast::set_cpu_enabled(prev_);
    }
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool enabled_;
  bool cuda_;
  bool prev_ = false;
};

// With `off`, float32 products while alive, also inside an AutocastGuard; restores the previous
// state on exit (without `off`, does nothing).
class AutocastOffGuard {
 public:
  AutocastOffGuard(bool off, torch::Device device)
      : off_(off),
        cuda_(device.is_cuda()),
        prev_(cuda_ ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled()) {
    if (off_) set(false);
  }
  ~AutocastOffGuard() {
    if (off_) set(prev_);
  }
  AutocastOffGuard(const AutocastOffGuard&) = delete;
  AutocastOffGuard& operator=(const AutocastOffGuard&) = delete;

 private:
  void set(bool on) const {
    if (cuda_) {
      at::autocast::set_enabled(on);
    } else {
      at::autocast::set_cpu_enabled(on);
    }
  }
  bool off_;
  bool cuda_;
  bool prev_;
};

// "fp32" -> false, "bf16" -> true; throws on anything else.
bool parse_precision(const std::string& name);

// Additive attention mask value (large negative instead of -inf: no NaN on fully masked rows).
inline constexpr float kMaskValue = -1e9f;

}  // namespace recsys::seqrec::internal
