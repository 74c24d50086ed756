// TIGER-style generative recommender: a transformer encoder reads the semantic-ID tokens of the
// user's recent items (plus a hashed user token), a decoder generates the next item's ID token by
// token. Pre-LayerNorm blocks, learned positions, attention with head size independent of d_model.
//
// Token layout of the shared embedding (TigerVocab): 0 = PAD, 1 = BOS, then the codes of each ID
// position at its own offset (suffix last), then the hashed user tokens, then (with item tokens)
// one token per catalogue item. The output head covers the codes only; step p scores the vocab[p]
// codes of position p.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "recsys/id_map.h"
#include "sequential_rec/attention.h"
#include "sequential_rec/beam_search.h"
#include "sequential_rec/recommender.h"

namespace recsys::seqrec {

struct TigerVocab {
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kBos = 1;
  static constexpr int64_t kNumSpecial = 2;
  TigerVocab() = default;
  TigerVocab(const std::vector<int64_t>& code_vocab, int64_t num_user_tokens,
             int64_t num_item_tokens = 0);
  std::vector<int64_t> code_vocab;     // codes per position (suffix last)
  std::vector<int64_t> input_offset;   // first embedding row of position p's codes
  std::vector<int64_t> output_offset;  // first output-head row of position p's codes
  int64_t user_offset = 0;
  int64_t num_user_tokens = 0;
  int64_t item_offset = 0;
  int64_t num_item_tokens = 0;  // 0 = history items are read through their ID tokens only
  int64_t size = 0;         // embedding rows
  int64_t num_outputs = 0;  // output-head rows (sum of code_vocab)
  int64_t length() const { return static_cast<int64_t>(code_vocab.size()); }
  // Source tokens per history item: its ID tokens, then its own item token when there are any.
  int64_t tokens_per_item() const { return length() + (num_item_tokens > 0 ? 1 : 0); }
  int64_t user_token(UserIndex user) const;
  int64_t item_token(ItemIndex item) const;
};

struct TigerOptions {
  explicit TigerOptions(std::vector<int64_t> code_vocab) : code_vocab_(std::move(code_vocab)) {}
  TORCH_ARG(std::vector<int64_t>, code_vocab);
  TORCH_ARG(int64_t, num_user_tokens) = 2000;
  TORCH_ARG(int64_t, max_items) = 20;
  TORCH_ARG(int64_t, d_model) = 128;
  TORCH_ARG(int64_t, num_heads) = 6;
  TORCH_ARG(int64_t, head_dim) = 64;
  TORCH_ARG(int64_t, d_ff) = 1024;
  TORCH_ARG(int64_t, encoder_layers) = 4;
  TORCH_ARG(int64_t, decoder_layers) = 4;
  TORCH_ARG(double, dropout) = 0.1;
  // One encoder position per history item (the sum of its token embeddings) instead of one per
  // token; the source is then [B, S, T], T = tokens per item (tiger_source with item_rows).
  TORCH_ARG(bool, item_inputs) = false;
  // > 0: one learned embedding per catalogue item (items 0 .. n-1), read beside each history item's
  // ID tokens (not in the published TIGER: it lets the encoder tell apart items whose IDs are
  // close). The decoder still generates semantic IDs.
  TORCH_ARG(int64_t, num_item_tokens) = 0;
};

struct FeedForwardImpl : torch::nn::Module {
  FeedForwardImpl(int64_t d_model, int64_t d_ff, double dropout);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  double dropout;
};
TORCH_MODULE(FeedForward);

struct TigerEncoderLayerImpl : torch::nn::Module {
  explicit TigerEncoderLayerImpl(const TigerOptions& o);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  MultiHeadAttention attn{nullptr};
  FeedForward ff{nullptr};
  double dropout;
};
TORCH_MODULE(TigerEncoderLayer);

struct TigerDecoderLayerImpl : torch::nn::Module {
  explicit TigerDecoderLayerImpl(const TigerOptions& o);
  // Teacher-forced pass over all target positions.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& self_mask,
                        const KeyValue& memory_kv, const torch::Tensor& memory_mask);
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr}, ln3{nullptr};
  MultiHeadAttention self_attn{nullptr}, cross_attn{nullptr};
  FeedForward ff{nullptr};
  double dropout;
};
TORCH_MODULE(TigerDecoderLayer);

struct TigerMemory {
  torch::Tensor mask;              // [B, 1, 1, S] additive (padding)
  std::vector<KeyValue> layer_kv;  // cross-attention keys/values per decoder layer
};

class TigerImpl : public torch::nn::Module {
 public:
  explicit TigerImpl(const TigerOptions& options);
  void reset();

  // Encodes source tokens (left-padded with kPad) and projects the cross-attention keys/values.
  // src: [B, S] int64, or [B, S, T] with item_inputs, T = vocab().tokens_per_item() (a position
  // whose first token is kPad is padding; kPad inside a row adds nothing).
  TigerMemory encode(const torch::Tensor& src);
  // Log-probability of every target code under teacher forcing.
  torch::Tensor token_log_probs(const torch::Tensor& src,     // as encode()
                                const torch::Tensor& codes);  // [B, L] local codes -> [B, L]
  // Mean cross-entropy per target token.
  torch::Tensor loss(const torch::Tensor& src, const torch::Tensor& codes);

  const TigerOptions& options() const { return options_; }
  const TigerVocab& vocab() const { return vocab_; }

  // Pieces used by TigerStepDecoder.
  torch::Tensor embed_decoder_input(const torch::Tensor& tokens, int64_t position);
  torch::Tensor head_log_probs(const torch::Tensor& h, int64_t position);  // [N, d] -> [N, V_p]

  torch::nn::Embedding embedding{nullptr}, enc_pos{nullptr}, dec_pos{nullptr};
  torch::nn::ModuleList encoder{nullptr}, decoder{nullptr};
  torch::nn::LayerNorm enc_norm{nullptr}, dec_norm{nullptr};
  torch::nn::Linear head{nullptr};

 private:
  TigerOptions options_;
  TigerVocab vocab_;
};
TORCH_MODULE(Tiger);

// Incremental decoder over a cached encoder output: cross-attention keys/values are computed once
// per user and shared by all of its hypotheses; self-attention keys/values grow one step at a time.
class TigerStepDecoder : public StepDecoder {
 public:
  TigerStepDecoder(Tiger model, const torch::Tensor& src);  // src: as TigerImpl::encode
  torch::Tensor step(int64_t step, const torch::Tensor& input,
                     const torch::Tensor& batch_index) override;
  void reorder(const torch::Tensor& parent) override;

 private:
  Tiger model_;
  TigerMemory memory_;
  std::vector<KeyValue> cache_;
  int64_t batch_ = 0;
};

// Source tokens of queries: the user token, then the tokens of the last max_items history items
// (oldest first; per item its T = vocab.tokens_per_item() tokens: the codes, then its item token if
// the vocabulary has them), left-padded with kPad. [B, 1 + T * n] flat, or with item_rows
// [B, 1 + n, T]: one row per item and the user token alone in its row (the rest kPad).
torch::Tensor tiger_source(const TigerVocab& vocab, const IdMap& map,
                           const std::vector<Query>& queries, int64_t max_items,
                           bool item_rows = false);

}  // namespace recsys::seqrec
