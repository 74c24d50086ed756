// Multi-head attention whose head size is independent of d_model (TIGER uses 6 heads x 64 on a
// 128-wide model, which torch::nn::MultiheadAttention cannot express), with the pieces incremental
// decoding needs: separate key/value projection (to cache the encoder side) and a step function
// that appends to a self-attention cache.
#pragma once

#include <torch/torch.h>

namespace recsys::seqrec {

struct MultiHeadAttentionOptions {
  MultiHeadAttentionOptions(int64_t d_model, int64_t num_heads, int64_t head_dim)
      : d_model_(d_model), num_heads_(num_heads), head_dim_(head_dim) {}
  TORCH_ARG(int64_t, d_model);
  TORCH_ARG(int64_t, num_heads);
  TORCH_ARG(int64_t, head_dim);
  TORCH_ARG(double, dropout) = 0.0;
  // Cross-attention modules project queries (q) and memory (kv) separately; self-attention ones
  // use one fused qkv projection.
  TORCH_ARG(bool, cross) = false;
};

struct KeyValue {
  torch::Tensor k;  // [B, H, S, hd]
  torch::Tensor v;  // [B, H, S, hd]
};

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options);
  void reset();

  // Self-attention over x; mask is additive, broadcastable to [B, H, T, T] (undefined = none).
  torch::Tensor forward(const torch::Tensor& x,      // [B, T, d]
                        const torch::Tensor& mask);  // [B|1, 1, T, T]
  // Keys and values of a memory (encoder output), for cross-attention.
  KeyValue project_kv(const torch::Tensor& memory);  // [B, S, d]
  // Attention of queries x over cached keys/values. x has Tq positions per batch row; in beam
  // search they are the beams of one user, which all attend to the same memory.
  torch::Tensor attend(const torch::Tensor& x,      // [B, Tq, d]
                       const KeyValue& kv,          // [B, H, S, hd]
                       const torch::Tensor& mask);  // [B|1, 1, Tq|1, S] additive or undefined
  // Attention of query rows over cached keys/values when batch rows have different numbers of
  // queries: row i is query position slot[i] % per_row of batch row slot[i] / per_row (slots
  // distinct); undefined `slot` means row i is exactly slot i (every batch row has per_row rows).
  torch::Tensor attend_rows(const torch::Tensor& x,     // [N, d]
                            const KeyValue& kv,         // [B, H, S, hd]
                            const torch::Tensor& mask,  // [B|1, 1, 1, S] additive or undefined
                            int64_t per_row,
                            const torch::Tensor& slot);  // [N] int64 or undefined -> [N, d]
  // One decoding step of causal self-attention: x holds the newest position of every hypothesis;
  // its key/value are appended to `cache` (grown along S).
  torch::Tensor step(const torch::Tensor& x,  // [N, 1, d]
                     KeyValue& cache);        // [N, H, t, hd] -> [N, H, t + 1, hd]

  MultiHeadAttentionOptions options;
  torch::nn::Linear q{nullptr}, kv{nullptr}, qkv{nullptr}, out{nullptr};

 private:
  torch::Tensor split_heads(const torch::Tensor& x) const;  // [B, T, H*hd] -> [B, H, T, hd]
  torch::Tensor merge_heads(const torch::Tensor& x) const;  // [B, H, T, hd] -> [B, T, H*hd]
  torch::Tensor core(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& mask);
};
TORCH_MODULE(MultiHeadAttention);

// layer(x) over the last dimension. Without autograd (decoding) it is one matrix product with the
// bias fused in (addmm) whatever the leading dimensions: LibTorch 1.13 runs a Linear on a 3-D input
// as matmul + a separate bias add_, which under bf16 autocast cost almost as much as the product
// itself when decoding. With autograd (training) 3-D inputs keep LibTorch's path: fusing gained
// training nothing (174 vs 174 samples/s), and the two failures of oneDNN's kernel creation seen
// with a backtrace were in the fused product. Keeping LibTorch's path did not end them (two more
// came later; see internal/kernel_retry.h and internal/batching.h).
torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x);

// Additive mask [1, 1, T, T]: 0 on and below the diagonal, kMaskValue above.
torch::Tensor causal_mask(int64_t t, torch::Device device);

}  // namespace recsys::seqrec
