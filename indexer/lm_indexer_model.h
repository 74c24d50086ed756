// The networks of LMIndexer ("Language Models as Semantic Indexers", Jin et al.):
//  - SemanticEncoder: a transformer encoder over the item text plus a small causal decoder that,
//    fed a start vector and the embeddings of the codes chosen so far, yields h_t for every ID
//    position t; one codebook E_t [K, d] per position, c_t = argmax_j <h_t, E_t[j]>, with a
//    straight-through estimator (forward E_t[c_t], backward through softmax(h_t E_t^T) E_t).
//    The text encoder is either built in (token + position embeddings, transformer encoder) or a
//    TorchScript module attached after construction (attach_script) followed by a projection.
//  - Reconstructor: a shallow transformer decoder that rebuilds the item's text tokens from the
//    code embeddings plus a heavily masked copy of the text.
// And the loss helpers the trainer combines (contrastive with same-prefix negatives, commitment).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace recsys::indexer {

struct LMIndexerModelOptions {
  LMIndexerModelOptions(int64_t vocab_size, int64_t pad_id)
      : vocab_size_(vocab_size), pad_id_(pad_id) {}
  TORCH_ARG(int64_t, vocab_size);  // tokenizer pieces; the model adds one [MASK] id = vocab_size
  TORCH_ARG(int64_t, pad_id);      // tokenizer padding id
  TORCH_ARG(int64_t, d_model) = 128;
  TORCH_ARG(int64_t, nhead) = 4;
  TORCH_ARG(int64_t, encoder_layers) = 2;
  TORCH_ARG(int64_t, decoder_layers) = 1;
  TORCH_ARG(int64_t, reconstructor_layers) = 1;
  TORCH_ARG(int64_t, dim_feedforward) = 256;
  TORCH_ARG(double, dropout) = 0.1;
  TORCH_ARG(int64_t, max_text_length) = 32;
  TORCH_ARG(int64_t, id_length) = 3;        // L
  TORCH_ARG(int64_t, codebook_size) = 256;  // K
  // > 0: the text encoder is a TorchScript module with this output width H (attach_script),
  // followed by a linear projection H -> d_model; the built-in text encoder is not created.
  TORCH_ARG(int64_t, script_hidden) = 0;
};

// Codes chosen at one position, straight-through.
struct Quantized {
  torch::Tensor logits;     // [B, K] = <h_t, E_t[j]> / sqrt(d)
  torch::Tensor codes;      // [B] int64, argmax
  torch::Tensor embedding;  // [B, d]: value E_t[c_t], gradient of softmax(logits) E_t
};

class SemanticEncoderImpl : public torch::nn::Module {
 public:
  explicit SemanticEncoderImpl(const LMIndexerModelOptions& options);

  // Encoder memory of the text. tokens, padding: [B, T]; returns [T, B, d].
  torch::Tensor encode_text(const torch::Tensor& tokens, const torch::Tensor& padding);
  // Hidden states h_1..h_t for t = prefix.size(1) + 1. memory [T, B, d], padding [B, T],
  // prefix [B, t-1] int64 (codes of the earlier positions). Returns [B, t, d].
  torch::Tensor decode(const torch::Tensor& memory, const torch::Tensor& padding,
                       const torch::Tensor& prefix);
  // Both steps.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& padding,
                        const torch::Tensor& prefix);
  // Quantises h [B, d] with codebook `position` (0-based).
  Quantized quantize(const torch::Tensor& h, int64_t position);
  // Commitment: cross-entropy of the earlier positions' code logits (from h [B, >=s, d])
  // against their fixed codes prefix [B, s], so learning position s+1 keeps c_1..c_s stable.
  // A zero scalar when the prefix is empty.
  torch::Tensor commitment_loss(const torch::Tensor& h, const torch::Tensor& prefix);
  // Code embeddings E_s[c_s] of a prefix [B, s] -> [B, s, d].
  torch::Tensor code_embeddings(const torch::Tensor& prefix);

  torch::Tensor& codebook(int64_t position) { return codebooks_[position]; }
  // Parameters of the text encoder and decoder (everything but the codebooks), including the
  // TorchScript encoder's when it is attached and not frozen.
  std::vector<torch::Tensor> network_parameters() const;
  // The ID decoder's part of network_parameters(): everything but the codebooks and the text
  // encoder (embeddings + transformer encoder, or the script's parameters + projection).
  std::vector<torch::Tensor> decoder_parameters() const;
  const LMIndexerModelOptions& options() const { return options_; }

  // Attaches the TorchScript text encoder (options().script_hidden > 0). A frozen script runs in
  // eval mode without gradients.
  void attach_script(torch::jit::Module script, bool frozen);
  torch::jit::Module* script() { return script_ ? &*script_ : nullptr; }
  const torch::jit::Module* script() const { return script_ ? &*script_ : nullptr; }
  // Token embedding of the built-in text encoder [V + 1, d]; undefined with a script.
  torch::Tensor token_embedding_weight() const;
  void train(bool on = true) override;

 private:
  bool is_text_encoder_parameter(const std::string& name) const;

  LMIndexerModelOptions options_;
  std::optional<torch::jit::Module> script_;
  bool script_frozen_ = true;
  torch::nn::Linear script_projection_{nullptr};
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};
  torch::nn::TransformerEncoder encoder_{nullptr};
  torch::nn::Embedding id_position_embedding_{nullptr};
  torch::Tensor start_;  // [d]
  torch::nn::TransformerDecoder decoder_{nullptr};
  torch::nn::LayerNorm output_norm_{nullptr};
  std::vector<torch::Tensor> codebooks_;  // L x [K, d]
};
TORCH_MODULE(SemanticEncoder);

class ReconstructorImpl : public torch::nn::Module {
 public:
  explicit ReconstructorImpl(const LMIndexerModelOptions& options);
  // masked_tokens, padding: [B, T] (masked tokens carry the [MASK] id); codes [B, t, d] (t may
  // be 0). Returns hidden states [B, T, d]; logits() maps selected rows to the vocabulary.
  torch::Tensor forward(const torch::Tensor& masked_tokens, const torch::Tensor& padding,
                        const torch::Tensor& codes);
  torch::Tensor logits(const torch::Tensor& hidden);  // [M, d] -> [M, V]
  torch::Tensor token_embedding_weight() const { return token_embedding_->weight; }  // [V+1, d]

 private:
  LMIndexerModelOptions options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};
  torch::nn::Embedding code_position_embedding_{nullptr};
  torch::nn::TransformerDecoder decoder_{nullptr};
  torch::nn::Linear output_{nullptr};
};
TORCH_MODULE(Reconstructor);

class LMIndexerModelImpl : public torch::nn::Module {
 public:
  explicit LMIndexerModelImpl(const LMIndexerModelOptions& options);
  SemanticEncoder encoder{nullptr};
  Reconstructor reconstructor{nullptr};
  const LMIndexerModelOptions& options() const { return options_; }

 private:
  LMIndexerModelOptions options_;
};
TORCH_MODULE(LMIndexerModel);

// [B, B] bool: true where items i and j share the prefix [B, s] (s may be 0: all true).
torch::Tensor same_prefix_mask(const torch::Tensor& prefix);

// InfoNCE between two views a, b [B, d] (L2-normalised here): row i's positive is b[i], its
// negatives are the b[j] with allowed[i][j] (allowed [B, B] bool, the diagonal is always kept).
// Rows without any negative contribute zero. Mean over rows.
torch::Tensor contrastive_loss(const torch::Tensor& a, const torch::Tensor& b,
                               const torch::Tensor& allowed, double temperature);

// Replaces a random fraction `rate` of the non-padding tokens by mask_id (at least one per row).
// Returns the masked tokens and the bool mask of replaced positions, both [B, T].
struct MaskedText {
  torch::Tensor tokens;
  torch::Tensor masked;
};
MaskedText mask_tokens(const torch::Tensor& tokens, const torch::Tensor& padding, double rate,
                       int64_t mask_id);

}  // namespace recsys::indexer
