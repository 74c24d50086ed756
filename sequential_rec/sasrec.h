// SASRec baseline: causal self-attention over item-ID embeddings, trained with full-softmax
// cross-entropy over the whole catalogue at every position (output tied to the item embeddings).
#pragma once

#include <torch/torch.h>

#include "sequential_rec/attention.h"
#include "sequential_rec/tiger.h"

namespace recsys::seqrec {

struct SasRecOptions {
  explicit SasRecOptions(int64_t num_items) : num_items_(num_items) {}
  TORCH_ARG(int64_t, num_items);
  TORCH_ARG(int64_t, d_model) = 64;
  TORCH_ARG(int64_t, num_blocks) = 2;
  TORCH_ARG(int64_t, num_heads) = 1;
  TORCH_ARG(int64_t, max_len) = 50;
  TORCH_ARG(double, dropout) = 0.3;
};

struct SasRecBlockImpl : torch::nn::Module {
  SasRecBlockImpl(int64_t d_model, int64_t num_heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  MultiHeadAttention attn{nullptr};
  FeedForward ff{nullptr};
  double dropout;
};
TORCH_MODULE(SasRecBlock);

class SasRecImpl : public torch::nn::Module {
 public:
  explicit SasRecImpl(const SasRecOptions& options);
  void reset();
  // Hidden state of every position; items are 1-based (0 = padding), left-padded.
  torch::Tensor forward(const torch::Tensor& items);  // [B, T] -> [B, T, d]
  // Scores of all catalogue items for the hidden states.
  torch::Tensor logits(const torch::Tensor& h);  // [N, d] -> [N, num_items]
  const SasRecOptions& options() const { return options_; }

  torch::nn::Embedding item_emb{nullptr}, pos_emb{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  SasRecOptions options_;
};
TORCH_MODULE(SasRec);

}  // namespace recsys::seqrec
