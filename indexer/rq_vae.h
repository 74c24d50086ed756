// RQ-VAE as in TIGER (Rajput et al. 2023): an MLP encoder maps item features to a latent vector,
// a residual quantiser of L codebooks of K codes turns it into L codes (each level quantises what
// the previous levels left), and an MLP decoder reconstructs the features from the sum of the
// chosen code vectors. Loss = reconstruction + sum over levels of codebook and beta * commitment
// terms; the straight-through estimator passes decoder gradients to the encoder.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace recsys::indexer {

struct RqVaeOptions {
  explicit RqVaeOptions(int64_t input_dim) : input_dim_(input_dim) {}
  TORCH_ARG(int64_t, input_dim);
  TORCH_ARG(std::vector<int64_t>, hidden) = std::vector<int64_t>{768, 512, 256};
  TORCH_ARG(int64_t, latent_dim) = 32;
  TORCH_ARG(int64_t, levels) = 3;
  TORCH_ARG(int64_t, codebook_size) = 256;
  TORCH_ARG(double, beta) = 0.25;  // commitment weight
};

struct RqVaeOutput {
  torch::Tensor reconstruction;       // [B, D]
  torch::Tensor codes;                // [B, L] int64
  torch::Tensor reconstruction_loss;  // scalar: squared error summed over D, mean over B
  torch::Tensor quantization_loss;    // scalar: sum over levels of codebook + beta * commitment
};

class RqVaeImpl : public torch::nn::Module {
 public:
  explicit RqVaeImpl(RqVaeOptions options);
  // x: [B, D] -> [B, latent]
  torch::Tensor encode(const torch::Tensor& x);
  // z: [B, latent] -> codes [B, L] (no gradient); residuals[l] = what level l quantised.
  torch::Tensor quantize(const torch::Tensor& z, std::vector<torch::Tensor>* residuals = nullptr);
  // x: [B, D]
  RqVaeOutput forward(const torch::Tensor& x);
  // centroids: [K, latent]
  void set_codebook(int64_t level, const torch::Tensor& centroids);
  const torch::Tensor& codebook(int64_t level) const { return codebooks_[level]; }

  RqVaeOptions options;

 private:
  torch::nn::Sequential encoder_{nullptr};
  torch::nn::Sequential decoder_{nullptr};
  std::vector<torch::Tensor> codebooks_;  // [K, latent] each, registered parameters
};
TORCH_MODULE(RqVae);

}  // namespace recsys::indexer
