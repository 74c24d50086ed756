#include "sequential_rec/beam_search.h"

#include <limits>

#include "recsys/error.h"

namespace recsys::seqrec {

void TrieConstraint::apply(int64_t step, const torch::Tensor& prefixes, torch::Tensor& log_probs) {
  const int64_t n = log_probs.size(0);
  const int64_t v = log_probs.size(1);
  RECSYS_CHECK(static_cast<size_t>(step) < trie_.depth(), "decoding past the ID length");
  auto mask = torch::full({n, v}, -std::numeric_limits<float>::infinity(), torch::kFloat);
  float* m = mask.data_ptr<float>();
  auto pre = prefixes.accessor<int64_t, 2>();
  std::vector<Token> prefix(step);
  for (int64_t i = 0; i < n; ++i) {
    bool ok = true;
    for (int64_t s = 0; s < step; ++s) {
      const int64_t t = pre[i][s];
      if (t < 0 || t > std::numeric_limits<Token>::max()) {
        ok = false;
        break;
      }
      prefix[s] = static_cast<Token>(t);
    }
    if (!ok) continue;
    auto node = trie_.find(prefix.data(), prefix.size());
    if (!node) continue;
    const Token* tok = trie_.child_tokens_begin(*node);
    const size_t c = trie_.num_children(*node);
    for (size_t k = 0; k < c; ++k) {
      if (tok[k] < v) m[i * v + tok[k]] = 0.f;
    }
  }
  log_probs.add_(mask.to(log_probs.device()));
}

std::vector<std::vector<Hypothesis>> BeamSearch::search(
    StepDecoder& decoder, int64_t batch_size,
    const std::vector<std::shared_ptr<LogitsProcessor>>& processors) {
  RECSYS_CHECK(options_.beam_size > 0 && options_.num_steps > 0, "bad beam search options");
  const int64_t k = options_.beam_size;
  stats_ = {};
  int64_t beams = 1;
  auto opts = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor input = torch::full({batch_size}, -1, opts);
  torch::Tensor prefixes = torch::zeros({batch_size, 0}, opts);         // CPU
  torch::Tensor scores = torch::zeros({batch_size, 1}, torch::kFloat);  // [B, beams]
  for (int64_t step = 0; step < options_.num_steps; ++step) {
    torch::Tensor lp = decoder.step(step, input, beams).to(torch::kCPU).contiguous();
    for (auto& p : processors) p->apply(step, prefixes, lp);
    const int64_t v = lp.size(1);
    stats_.max_live_hypotheses = std::max(stats_.max_live_hypotheses, batch_size * beams);
    auto total = (scores.unsqueeze(-1) + lp.view({batch_size, beams, v})).view({batch_size, -1});
    const int64_t next_beams = std::min<int64_t>(k, beams * v);
    auto top = total.topk(next_beams, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
    scores = std::get<0>(top);
    auto idx = std::get<1>(top);
    auto parent_local = idx.div(v, "floor");
    auto token = idx.remainder(v);
    auto parent =
        (torch::arange(batch_size, opts).unsqueeze(1) * beams + parent_local).reshape({-1});
    prefixes = torch::cat({prefixes.index_select(0, parent), token.reshape({-1, 1})}, 1);
    input = token.reshape({-1});
    beams = next_beams;
    if (step + 1 < options_.num_steps) decoder.reorder(parent);
    ++stats_.steps;
  }
  std::vector<std::vector<Hypothesis>> out(batch_size);
  auto sc = scores.accessor<float, 2>();
  auto pre = prefixes.accessor<int64_t, 2>();
  for (int64_t b = 0; b < batch_size; ++b) {
    for (int64_t j = 0; j < beams; ++j) {
      const float s = sc[b][j];
      if (!std::isfinite(s)) continue;
      Hypothesis h;
      h.score = s;
      const int64_t row = b * beams + j;
      for (int64_t t = 0; t < options_.num_steps; ++t) h.tokens.push_back(pre[row][t]);
      out[b].push_back(std::move(h));
    }
  }
  return out;
}

}  // namespace recsys::seqrec
