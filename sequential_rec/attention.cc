#include "sequential_rec/attention.h"

#include <cmath>

#include "sequential_rec/internal/model_adapter.h"
#include "sequential_rec/internal/parallel.h"

namespace recsys::seqrec {

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const MultiHeadAttentionOptions& options)
    : options(options) {
  reset();
}

void MultiHeadAttentionImpl::reset() {
  const int64_t inner = options.num_heads() * options.head_dim();
  if (options.cross()) {
    q = register_module("q", torch::nn::Linear(options.d_model(), inner));
    kv = register_module("kv", torch::nn::Linear(options.d_model(), 2 * inner));
  } else {
    qkv = register_module("qkv", torch::nn::Linear(options.d_model(), 3 * inner));
  }
  out = register_module("out", torch::nn::Linear(inner, options.d_model()));
}

torch::Tensor MultiHeadAttentionImpl::split_heads(const torch::Tensor& x) const {
  return x.view({x.size(0), x.size(1), options.num_heads(), options.head_dim()}).transpose(1, 2);
}

torch::Tensor MultiHeadAttentionImpl::merge_heads(const torch::Tensor& x) const {
  return x.transpose(1, 2).reshape(
      {x.size(0), x.size(2), options.num_heads() * options.head_dim()});
}

torch::Tensor MultiHeadAttentionImpl::core(const torch::Tensor& qh, const torch::Tensor& k,
                                           const torch::Tensor& v, const torch::Tensor& mask) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(options.head_dim()));
  auto scores = torch::matmul(qh * scale, k.transpose(-2, -1));  // [B, H, Tq, S]
  if (mask.defined()) scores = scores + mask;
  auto probs = torch::softmax(scores, -1);
  probs = internal::dropout(probs, options.dropout(), is_training());
  return torch::matmul(probs, v);  // [B, H, Tq, hd]
}

torch::Tensor MultiHeadAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  auto parts = linear(qkv, x).chunk(3, -1);
  auto o = core(split_heads(parts[0]), split_heads(parts[1]), split_heads(parts[2]), mask);
  return linear(out, merge_heads(o));
}

KeyValue MultiHeadAttentionImpl::project_kv(const torch::Tensor& memory) {
  auto parts = linear(kv, memory).chunk(2, -1);
  return {split_heads(parts[0]).contiguous(), split_heads(parts[1]).contiguous()};
}

torch::Tensor MultiHeadAttentionImpl::attend(const torch::Tensor& x, const KeyValue& kvs,
                                             const torch::Tensor& mask) {
  auto o = core(split_heads(linear(q, x)), kvs.k, kvs.v, mask);
  return linear(out, merge_heads(o));
}

torch::Tensor MultiHeadAttentionImpl::attend_rows(const torch::Tensor& x, const KeyValue& kvs,
                                                  const torch::Tensor& mask, int64_t per_row,
                                                  const torch::Tensor& slot) {
  auto qp = linear(q, x);  // only the real rows go through the projections
  const int64_t b = kvs.k.size(0), inner = qp.size(1);
  auto padded = slot.defined()
                    ? torch::zeros({b * per_row, inner}, qp.options()).index_copy_(0, slot, qp)
                    : qp;
  auto o = merge_heads(core(split_heads(padded.view({b, per_row, inner})), kvs.k, kvs.v, mask))
               .reshape({b * per_row, inner});
  if (slot.defined()) o = o.index_select(0, slot);
  return linear(out, o);
}

torch::Tensor MultiHeadAttentionImpl::step(const torch::Tensor& x, KeyValue& cache) {
  auto parts = linear(qkv, x).chunk(3, -1);
  auto k = split_heads(parts[1]);
  auto v = split_heads(parts[2]);
  cache.k = cache.k.defined() ? torch::cat({cache.k, k}, 2) : k;
  cache.v = cache.v.defined() ? torch::cat({cache.v, v}, 2) : v;
  auto o = core(split_heads(parts[0]), cache.k, cache.v, torch::Tensor());
  return linear(out, merge_heads(o));
}

torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  // 2-D inputs are one addmm anyway; under autograd 3-D inputs keep LibTorch's path (header).
  if (x.dim() <= 2 || torch::GradMode::is_enabled()) {
    return F::linear(x, layer->weight, layer->bias);
  }
  auto sizes = x.sizes().vec();
  sizes.back() = layer->weight.size(0);
  return F::linear(x.reshape({-1, x.size(-1)}), layer->weight, layer->bias).view(sizes);
}

torch::Tensor causal_mask(int64_t t, torch::Device device) {
  return torch::full({t, t}, internal::kMaskValue, torch::TensorOptions().device(device))
      .triu(1)
      .view({1, 1, t, t});
}

}  // namespace recsys::seqrec
