#include "indexer/lm_indexer_model.h"

#include <cmath>
#include <limits>

namespace recsys::indexer {
namespace {

namespace nn = torch::nn;

nn::TransformerDecoder make_decoder(const LMIndexerModelOptions& o, int64_t layers) {
  return nn::TransformerDecoder(
      nn::TransformerDecoderOptions(nn::TransformerDecoderLayerOptions(o.d_model(), o.nhead())
                                        .dim_feedforward(o.dim_feedforward())
                                        .dropout(o.dropout()),
                                    layers));
}

// Token embedding with one extra row for [MASK] (id = vocab_size); padding rows stay zero.
nn::Embedding text_token_embedding(const LMIndexerModelOptions& o) {
  return nn::Embedding(
      nn::EmbeddingOptions(o.vocab_size() + 1, o.d_model()).padding_idx(o.pad_id()));
}

torch::Tensor positions(int64_t n, const torch::Device& device) {
  return torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
}

}  // namespace

SemanticEncoderImpl::SemanticEncoderImpl(const LMIndexerModelOptions& o) : options_(o) {
  const int64_t d = o.d_model();
  if (o.script_hidden() > 0) {
    script_projection_ = register_module("script_projection", nn::Linear(o.script_hidden(), d));
  } else {
    token_embedding_ = register_module("token_embedding", text_token_embedding(o));
    position_embedding_ =
        register_module("position_embedding", nn::Embedding(o.max_text_length(), d));
    encoder_ = register_module("encoder", nn::TransformerEncoder(nn::TransformerEncoderOptions(
                                              nn::TransformerEncoderLayerOptions(d, o.nhead())
                                                  .dim_feedforward(o.dim_feedforward())
                                                  .dropout(o.dropout()),
                                              o.encoder_layers())));
  }
  id_position_embedding_ =
      register_module("id_position_embedding", nn::Embedding(o.id_length(), d));
  start_ = register_parameter("start", torch::randn({d}) * 0.02);
  decoder_ = register_module("decoder", make_decoder(o, o.decoder_layers()));
  output_norm_ = register_module("output_norm", nn::LayerNorm(nn::LayerNormOptions({d})));
  for (int64_t t = 0; t < o.id_length(); ++t)
    codebooks_.push_back(register_parameter("codebook_" + std::to_string(t),
                                            torch::randn({o.codebook_size(), d}) * 0.02));
}

void SemanticEncoderImpl::attach_script(torch::jit::Module script, bool frozen) {
  TORCH_CHECK(options_.script_hidden() > 0, "the model was built without a script encoder");
  script_ = std::move(script);
  script_frozen_ = frozen;
  for (const auto& p : script_->parameters()) p.set_requires_grad(!frozen);
  script_->train(is_training() && !frozen);
}

void SemanticEncoderImpl::train(bool on) {
  nn::Module::train(on);
  if (script_) script_->train(on && !script_frozen_);
}

torch::Tensor SemanticEncoderImpl::token_embedding_weight() const {
  return token_embedding_ ? token_embedding_->weight : torch::Tensor();
}

torch::Tensor SemanticEncoderImpl::encode_text(const torch::Tensor& tokens,
                                               const torch::Tensor& padding) {
  if (options_.script_hidden() > 0) {
    TORCH_CHECK(script_.has_value(), "TorchScript text encoder not attached");
    const std::vector<torch::jit::IValue> inputs = {tokens, padding.logical_not()};
    torch::Tensor h;
    if (script_frozen_) {
      torch::NoGradGuard no_grad;
      h = script_->forward(inputs).toTensor().detach();
    } else {
      h = script_->forward(inputs).toTensor();
    }
    return script_projection_(h.to(torch::kFloat)).transpose(0, 1);  // [T, B, d]
  }
  const int64_t T = tokens.size(1);
  auto x = token_embedding_(tokens) + position_embedding_(positions(T, tokens.device()));
  return encoder_->forward(x.transpose(0, 1), /*src_mask=*/torch::Tensor(),
                           /*src_key_padding_mask=*/padding);
}

torch::Tensor SemanticEncoderImpl::code_embeddings(const torch::Tensor& prefix) {
  const int64_t B = prefix.size(0), s = prefix.size(1);
  std::vector<torch::Tensor> rows;
  for (int64_t p = 0; p < s; ++p)
    rows.push_back(codebooks_[p].index_select(0, prefix.select(1, p)));
  if (rows.empty()) return torch::zeros({B, 0, options_.d_model()}, start_.options());
  return torch::stack(rows, 1);
}

torch::Tensor SemanticEncoderImpl::decode(const torch::Tensor& memory, const torch::Tensor& padding,
                                          const torch::Tensor& prefix) {
  const int64_t B = prefix.size(0), t = prefix.size(1) + 1;
  // Inputs: start, E_1[c_1], ..., E_{t-1}[c_{t-1}]; the earlier codebooks are inputs only.
  auto inputs = torch::cat({start_.view({1, 1, -1}).expand({B, 1, options_.d_model()}),
                            code_embeddings(prefix).detach()},
                           1);
  inputs = inputs + id_position_embedding_(positions(t, prefix.device()));
  const auto causal = torch::triu(
      torch::full({t, t}, -std::numeric_limits<float>::infinity(), memory.options()), 1);
  auto out = decoder_->forward(inputs.transpose(0, 1), memory, causal,
                               /*memory_mask=*/torch::Tensor(),
                               /*tgt_key_padding_mask=*/torch::Tensor(),
                               /*memory_key_padding_mask=*/padding);
  return output_norm_(out.transpose(0, 1));
}

torch::Tensor SemanticEncoderImpl::forward(const torch::Tensor& tokens,
                                           const torch::Tensor& padding,
                                           const torch::Tensor& prefix) {
  return decode(encode_text(tokens, padding), padding, prefix);
}

Quantized SemanticEncoderImpl::quantize(const torch::Tensor& h, int64_t position) {
  const auto& E = codebooks_[position];
  Quantized q;
  q.logits = torch::matmul(h, E.t()) / std::sqrt(double(options_.d_model()));
  q.codes = q.logits.argmax(1);
  const auto hard = E.index_select(0, q.codes);
  const auto soft = torch::matmul(torch::softmax(q.logits, 1), E);
  q.embedding = soft + (hard - soft).detach();
  return q;
}

torch::Tensor SemanticEncoderImpl::commitment_loss(const torch::Tensor& h,
                                                   const torch::Tensor& prefix) {
  if (prefix.size(1) == 0) return torch::zeros({}, h.options());
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < prefix.size(1); ++s)
    parts.push_back(torch::nn::functional::cross_entropy(quantize(h.select(1, s), s).logits,
                                                         prefix.select(1, s)));
  return torch::stack(parts).mean();
}

bool SemanticEncoderImpl::is_text_encoder_parameter(const std::string& name) const {
  for (const char* prefix :
       {"token_embedding.", "position_embedding.", "encoder.", "script_projection."})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

std::vector<torch::Tensor> SemanticEncoderImpl::decoder_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : named_parameters(/*recurse=*/true))
    if (p.key().rfind("codebook_", 0) != 0 && !is_text_encoder_parameter(p.key()))
      out.push_back(p.value());
  return out;
}

std::vector<torch::Tensor> SemanticEncoderImpl::network_parameters() const {
  std::vector<torch::Tensor> out;  // registration order, as in version-1 optimizer states
  if (script_ && !script_frozen_)
    for (const auto& p : script_->parameters()) out.push_back(p);
  for (const auto& p : named_parameters(/*recurse=*/true))
    if (p.key().rfind("codebook_", 0) != 0) out.push_back(p.value());
  return out;
}

ReconstructorImpl::ReconstructorImpl(const LMIndexerModelOptions& o) : options_(o) {
  const int64_t d = o.d_model();
  token_embedding_ = register_module("token_embedding", text_token_embedding(o));
  position_embedding_ =
      register_module("position_embedding", nn::Embedding(o.max_text_length(), d));
  code_position_embedding_ =
      register_module("code_position_embedding", nn::Embedding(o.id_length(), d));
  decoder_ = register_module("decoder", make_decoder(o, o.reconstructor_layers()));
  output_ = register_module("output", nn::Linear(d, o.vocab_size()));
}

torch::Tensor ReconstructorImpl::forward(const torch::Tensor& masked_tokens,
                                         const torch::Tensor& padding, const torch::Tensor& codes) {
  const int64_t B = masked_tokens.size(0), T = masked_tokens.size(1), t = codes.size(1);
  auto text =
      token_embedding_(masked_tokens) + position_embedding_(positions(T, masked_tokens.device()));
  // Keys/values: the code embeddings, then the masked text.
  auto memory = text;
  auto memory_padding = padding;
  if (t > 0) {
    auto code_part = codes + code_position_embedding_(positions(t, codes.device()));
    memory = torch::cat({code_part, text}, 1);
    memory_padding = torch::cat({torch::zeros({B, t}, padding.options()), padding}, 1);
  }
  auto out = decoder_->forward(text.transpose(0, 1), memory.transpose(0, 1),
                               /*tgt_mask=*/torch::Tensor(), /*memory_mask=*/torch::Tensor(),
                               /*tgt_key_padding_mask=*/padding,
                               /*memory_key_padding_mask=*/memory_padding);
  return out.transpose(0, 1);
}

torch::Tensor ReconstructorImpl::logits(const torch::Tensor& hidden) { return output_(hidden); }

LMIndexerModelImpl::LMIndexerModelImpl(const LMIndexerModelOptions& o) : options_(o) {
  encoder = register_module("encoder", SemanticEncoder(o));
  reconstructor = register_module("reconstructor", Reconstructor(o));
}

torch::Tensor same_prefix_mask(const torch::Tensor& prefix) {
  const int64_t B = prefix.size(0);
  if (prefix.size(1) == 0)
    return torch::ones({B, B}, torch::TensorOptions().dtype(torch::kBool).device(prefix.device()));
  return (prefix.unsqueeze(1) == prefix.unsqueeze(0)).all(2);
}

torch::Tensor contrastive_loss(const torch::Tensor& a, const torch::Tensor& b,
                               const torch::Tensor& allowed, double temperature) {
  const auto an =
      torch::nn::functional::normalize(a, torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto bn =
      torch::nn::functional::normalize(b, torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto logits = torch::matmul(an, bn.t()) / temperature;
  const int64_t B = a.size(0);
  const auto eye = torch::eye(B, allowed.options());
  const auto keep = allowed.logical_or(eye);
  logits = logits.masked_fill(keep.logical_not(), -std::numeric_limits<float>::infinity());
  const auto targets = positions(B, a.device());
  // A row with only its positive has loss log(1) = 0, as documented.
  return torch::nn::functional::cross_entropy(logits, targets);
}

MaskedText mask_tokens(const torch::Tensor& tokens, const torch::Tensor& padding, double rate,
                       int64_t mask_id) {
  auto r = torch::rand(tokens.sizes());
  r = r.masked_fill(padding, 2.0);  // never mask padding
  auto masked = r < rate;
  // At least one masked token per row: the one with the smallest draw.
  const auto first = r.argmin(1, /*keepdim=*/true);
  masked.scatter_(1, first, true);
  masked = masked.logical_and(padding.logical_not());
  MaskedText out;
  out.masked = masked;
  out.tokens = tokens.masked_fill(masked, mask_id);
  return out;
}

}  // namespace recsys::indexer
