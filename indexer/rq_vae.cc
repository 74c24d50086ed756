#include "indexer/rq_vae.h"

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

torch::nn::Sequential mlp(const std::vector<int64_t>& dims) {
  torch::nn::Sequential seq;
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    seq->push_back(torch::nn::Linear(dims[i], dims[i + 1]));
    if (i + 2 < dims.size()) seq->push_back(torch::nn::ReLU());
  }
  return seq;
}

}  // namespace

RqVaeImpl::RqVaeImpl(RqVaeOptions options_) : options(std::move(options_)) {
  RECSYS_CHECK(options.input_dim() > 0 && options.latent_dim() > 0 && options.levels() > 0 &&
                   options.codebook_size() > 1,
               "RQ-VAE: bad shape");
  std::vector<int64_t> dims = {options.input_dim()};
  dims.insert(dims.end(), options.hidden().begin(), options.hidden().end());
  dims.push_back(options.latent_dim());
  encoder_ = register_module("encoder", mlp(dims));
  std::reverse(dims.begin(), dims.end());
  decoder_ = register_module("decoder", mlp(dims));
  for (int64_t l = 0; l < options.levels(); ++l) {
    codebooks_.push_back(
        register_parameter("codebook_" + std::to_string(l),
                           torch::randn({options.codebook_size(), options.latent_dim()}) * 0.1));
  }
}

torch::Tensor RqVaeImpl::encode(const torch::Tensor& x) { return encoder_->forward(x); }

torch::Tensor RqVaeImpl::quantize(const torch::Tensor& z, std::vector<torch::Tensor>* residuals) {
  torch::NoGradGuard no_grad;
  torch::Tensor r = z;
  std::vector<torch::Tensor> codes;
  for (int64_t l = 0; l < options.levels(); ++l) {
    if (residuals) residuals->push_back(r);
    const torch::Tensor& cb = codebooks_[l];
    // ||r - e||^2 = ||r||^2 - 2 r.e + ||e||^2; ||r||^2 does not change the argmin.
    const torch::Tensor d = cb.pow(2).sum(1).unsqueeze(0) - 2 * torch::matmul(r, cb.t());
    const torch::Tensor c = d.argmin(1);
    codes.push_back(c);
    r = r - cb.index_select(0, c);
  }
  return torch::stack(codes, 1);
}

RqVaeOutput RqVaeImpl::forward(const torch::Tensor& x) {
  const torch::Tensor z = encode(x);
  const torch::Tensor codes = quantize(z.detach());
  torch::Tensor residual = z;
  torch::Tensor quantized = torch::zeros_like(z);
  torch::Tensor qloss = torch::zeros({}, z.options());
  for (int64_t l = 0; l < options.levels(); ++l) {
    const torch::Tensor e = codebooks_[l].index_select(0, codes.select(1, l));
    // Codebook term moves the codes to the residuals, commitment term the residuals to the codes.
    qloss = qloss + (residual.detach() - e).pow(2).sum(1).mean() +
            options.beta() * (residual - e.detach()).pow(2).sum(1).mean();
    quantized = quantized + e;
    residual = residual - e.detach();
  }
  // Straight-through: forward uses the quantised latent, backward passes gradients to z.
  const torch::Tensor zq = z + (quantized - z).detach();
  RqVaeOutput out;
  out.reconstruction = decoder_->forward(zq);
  out.codes = codes;
  out.reconstruction_loss = (out.reconstruction - x).pow(2).sum(1).mean();
  out.quantization_loss = qloss;
  return out;
}

void RqVaeImpl::set_codebook(int64_t level, const torch::Tensor& centroids) {
  RECSYS_CHECK(level >= 0 && level < options.levels(), "RQ-VAE: no level ", level);
  RECSYS_CHECK(centroids.sizes() == codebooks_[level].sizes(), "RQ-VAE: codebook shape mismatch");
  torch::NoGradGuard no_grad;
  codebooks_[level].copy_(centroids);
}

}  // namespace recsys::indexer
