#include "indexer/rq_vae_indexer.h"

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "indexer/residual_kmeans.h"
#include "indexer/rq_vae.h"
#include "recsys/error.h"
#include "recsys/logging.h"
#include "recsys/progress.h"

namespace recsys::indexer {
namespace {

torch::Tensor to_tensor(const RowMatrix& x) {
  return torch::from_blob(const_cast<float*>(x.data()), {x.rows(), x.cols()}, torch::kFloat)
      .clone();
}

RowMatrix to_matrix(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat).contiguous();
  RowMatrix m(c.size(0), c.size(1));
  std::memcpy(m.data(), c.data_ptr<float>(), sizeof(float) * m.size());
  return m;
}

}  // namespace

RqVaeIndexer::RqVaeIndexer(IndexerOptions options) : options_(std::move(options)) {
  options_.validate();
}
RqVaeIndexer::~RqVaeIndexer() = default;

std::unique_ptr<Indexer> make_rq_vae_indexer(const IndexerOptions& options) {
  return std::make_unique<RqVaeIndexer>(options);
}

CodeAssignment RqVaeIndexer::assign(const RowMatrix& features) {
  const int64_t n = features.rows();
  const int64_t k = options_.codebook_size;
  const int64_t levels = options_.levels;
  RECSYS_CHECK(n >= k, "rqvae: ", n, " items for ", k, " codes per level");
  if (options_.rqvae_threads > 0) torch::set_num_threads(options_.rqvae_threads);
  torch::manual_seed(options_.seed);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  torch::Tensor x = to_tensor(features);
  if (options_.rqvae_standardize) {
    const torch::Tensor mean = x.mean(0, true);
    const torch::Tensor std = x.std(0, /*unbiased=*/false, true).clamp_min(1e-6);
    x = (x - mean) / std;
  }

  RqVaeOptions mo(features.cols());
  mo.hidden(options_.rqvae_hidden)
      .latent_dim(options_.rqvae_latent)
      .levels(levels)
      .codebook_size(k)
      .beta(options_.rqvae_beta);
  RqVae model(mo);

  // k-means initialisation of the codebooks on the latents of the untrained encoder.
  {
    torch::NoGradGuard no_grad;
    model->eval();
    const RowMatrix z = to_matrix(model->encode(x));
    IndexerOptions ko = options_;
    ko.kmeans_iterations = std::min<uint32_t>(options_.kmeans_iterations, 25);
    ko.kmeans_restarts = 1;
    ResidualKMeans rk(ko);
    rk.assign(z);
    for (int64_t l = 0; l < levels; ++l) model->set_codebook(l, to_tensor(rk.codebooks()[l]));
  }
  RECSYS_LOG(Info) << "rqvae: " << n << " items, input " << features.cols() << " -> latent "
                   << options_.rqvae_latent << ", " << levels << "x" << k
                   << " codes; k-means init done in " << elapsed() << " s";

  torch::optim::AdamW optimizer(
      model->parameters(),
      torch::optim::AdamWOptions(options_.rqvae_lr).weight_decay(options_.rqvae_weight_decay));
  history_.clear();
  const int64_t batch = std::min<int64_t>(options_.rqvae_batch_size, n);
  Progress progress("rqvae", options_.rqvae_epochs, "epochs", 5.0);
  for (uint32_t epoch = 1; epoch <= options_.rqvae_epochs; ++epoch) {
    model->train();
    const torch::Tensor perm = torch::randperm(n, torch::kLong);
    RqVaeEpochStats st;
    st.epoch = epoch;
    std::vector<torch::Tensor> used(levels);
    for (auto& u : used) u = torch::zeros({k}, torch::kLong);
    int64_t batches = 0;
    for (int64_t b = 0; b < n; b += batch) {
      const torch::Tensor idx = perm.slice(0, b, std::min(n, b + batch));
      const torch::Tensor xb = x.index_select(0, idx);
      RqVaeOutput out = model->forward(xb);
      const torch::Tensor loss = out.reconstruction_loss + out.quantization_loss;
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      st.loss += loss.item<double>();
      st.reconstruction += out.reconstruction_loss.item<double>();
      st.quantization += out.quantization_loss.item<double>();
      for (int64_t l = 0; l < levels; ++l)
        used[l].index_add_(0, out.codes.select(1, l), torch::ones({idx.size(0)}, torch::kLong));
      ++batches;
    }
    st.loss /= batches;
    st.reconstruction /= batches;
    st.quantization /= batches;
    for (int64_t l = 0; l < levels; ++l)
      st.usage.push_back(used[l].gt(0).sum().item<double>() / double(k));

    // Dead codes (unused this epoch) are re-seeded with residuals of random items at that level.
    if (options_.rqvae_reset_every > 0 && epoch % options_.rqvae_reset_every == 0 &&
        epoch < options_.rqvae_epochs) {
      torch::NoGradGuard no_grad;
      model->eval();
      std::vector<torch::Tensor> residuals;
      model->quantize(model->encode(x), &residuals);
      for (int64_t l = 0; l < levels; ++l) {
        const torch::Tensor dead = used[l].eq(0).nonzero().squeeze(1);
        const int64_t m = dead.size(0);
        if (m == 0) continue;
        const torch::Tensor pick = torch::randint(n, {m}, torch::kLong);
        torch::Tensor cb = model->codebook(l).clone();
        cb.index_copy_(0, dead, residuals[l].index_select(0, pick));
        model->set_codebook(l, cb);
        st.codes_reset += static_cast<uint32_t>(m);
      }
    }
    st.seconds = elapsed();
    history_.push_back(st);
    std::string usage;
    for (double u : st.usage) usage += (usage.empty() ? "" : "/") + std::to_string(int(100 * u));
    progress.add(1, "loss " + std::to_string(st.loss) + " recon " +
                        std::to_string(st.reconstruction) + " quant " +
                        std::to_string(st.quantization) + " usage% " + usage +
                        (st.codes_reset ? " reset " + std::to_string(st.codes_reset) : ""));
  }
  progress.finish();

  // Final codes of every item.
  CodeAssignment out;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor codes = model->quantize(model->encode(x)).contiguous();
    const auto acc = codes.accessor<int64_t, 2>();
    out.codes.assign(n, SemanticId(levels));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t l = 0; l < levels; ++l) out.codes[i][l] = static_cast<Token>(acc[i][l]);
  }
  out.vocab.assign(levels, static_cast<uint32_t>(k));
  out.config_json = nlohmann::json{
      {"levels", levels},
      {"codebook_size", k},
      {"hidden", options_.rqvae_hidden},
      {"latent", options_.rqvae_latent},
      {"beta", options_.rqvae_beta},
      {"epochs", options_.rqvae_epochs},
      {"batch_size", options_.rqvae_batch_size},
      {"optimizer", "AdamW"},
      {"lr", options_.rqvae_lr},
      {"weight_decay", options_.rqvae_weight_decay},
      {"reset_every", options_.rqvae_reset_every},
      {"standardize", options_.rqvae_standardize},
      {"codebook_init", "residual k-means"},
      {"seed",
       options_.seed}}.dump();
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& h : history_)
    hist.push_back({{"epoch", h.epoch},
                    {"loss", h.loss},
                    {"reconstruction", h.reconstruction},
                    {"quantization", h.quantization},
                    {"usage", h.usage},
                    {"codes_reset", h.codes_reset},
                    {"seconds", h.seconds}});
  out.training_json = nlohmann::json{{"seconds", elapsed()}, {"epochs", hist}}.dump();
  return out;
}

}  // namespace recsys::indexer
