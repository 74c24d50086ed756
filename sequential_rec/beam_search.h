// Generic beam search over a fixed number of decoding steps, with pluggable logits processors
// (CTranslate2 decoding.h style). The model side implements StepDecoder; constraints such as "only
// valid semantic-ID prefixes" are LogitsProcessors that mask next tokens with -inf.
//
// Hypotheses are laid out [batch, beams] flattened: hypothesis b * beams + j belongs to batch item
// b. At step 0 every batch item has one hypothesis (the start token); afterwards `beam_size`.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "sequential_rec/prefix_trie.h"

namespace recsys::seqrec {

// One decoding step of a model with cached state.
class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // Log-probabilities of the next token for every hypothesis. `input` holds the token each
  // hypothesis fed last (-1 at step 0 = start token); `beams` hypotheses per batch item.
  virtual torch::Tensor step(int64_t step, const torch::Tensor& input,  // [B * beams] int64
                             int64_t beams) = 0;                        // -> [B * beams, V]
  // Keeps, for the next step, hypothesis parent[i] as the new hypothesis i.
  virtual void reorder(const torch::Tensor& parent) = 0;  // [B * new_beams] int64
};

// Edits the log-probabilities of one step in place (mask = add -inf).
class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual void apply(int64_t step,
                     const torch::Tensor& prefixes,  // [N, step] int64, tokens so far (CPU)
                     torch::Tensor& log_probs) = 0;  // [N, V]
};

// Masks every next token that does not extend a valid prefix of `trie`.
class TrieConstraint : public LogitsProcessor {
 public:
  explicit TrieConstraint(const PrefixTrie& trie) : trie_(trie) {}
  void apply(int64_t step, const torch::Tensor& prefixes, torch::Tensor& log_probs) override;

 private:
  const PrefixTrie& trie_;
};

struct BeamSearchOptions {
  int64_t beam_size = 20;
  int64_t num_steps = 4;  // tokens to generate (the semantic-ID length)
};

struct Hypothesis {
  std::vector<int64_t> tokens;
  float score = 0.f;  // sum of the token log-probabilities
};

struct BeamSearchStats {
  int64_t steps = 0;
  int64_t max_live_hypotheses = 0;
};

class BeamSearch {
 public:
  explicit BeamSearch(BeamSearchOptions options) : options_(options) {}
  // Decodes `batch_size` items; returns per item its finished hypotheses, best first (those with
  // score -inf, i.e. dead beams, are dropped).
  std::vector<std::vector<Hypothesis>> search(
      StepDecoder& decoder, int64_t batch_size,
      const std::vector<std::shared_ptr<LogitsProcessor>>& processors);
  const BeamSearchStats& stats() const { return stats_; }

 private:
  BeamSearchOptions options_;
  BeamSearchStats stats_;
};

}  // namespace recsys::seqrec
