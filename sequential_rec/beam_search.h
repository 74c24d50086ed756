// Beam search over the prefix trie of a catalogue's semantic IDs (CTranslate2 decoding.h style:
// the model side implements StepDecoder, the search owns the hypotheses).
//
// Only valid prefixes are ever expanded, so every result is a real item. Scores are the model's
// log-probability of the item *given that it is in the catalogue*: at each step the next-token
// distribution is renormalised over the children the trie allows,
//     score(item) = sum_p [ log p(t_p | prefix) - log sum_{c in children(prefix)} p(c | prefix) ],
// so the scores of all items sum (in probability) to one. A step with a single allowed child adds
// exactly 0, and a hypothesis whose prefix already names one item is finished: the model is not
// run for it again. With a beam at least as wide as the catalogue the search returns every item
// with exactly this score (tests/seqrec/beam_search_test.cc checks it against exhaustive scoring).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "sequential_rec/prefix_trie.h"

namespace recsys::seqrec {

// One decoding step of a model with cached state. Rows are live hypotheses, grouped by batch item
// in increasing order; their number changes from step to step.
class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // Log-probabilities of the next token for every row. `input` holds the token each row fed last
  // (-1 at step 0 = start token), `batch_index` the batch item each row belongs to.
  virtual torch::Tensor step(int64_t step, const torch::Tensor& input,  // [N] int64 (CPU)
                             const torch::Tensor& batch_index) = 0;     // [N] int64 -> [N, V]
  // Row i of the next step continues row parent[i] of the step just scored.
  virtual void reorder(const torch::Tensor& parent) = 0;  // [N'] int64 (CPU)
};

struct BeamSearchOptions {
  int64_t beam_size = 20;
};

struct Hypothesis {
  ItemIndex item = 0;  // the catalogue item these tokens name
  std::vector<int64_t> tokens;
  float score = 0.f;  // log-probability of the item given the catalogue (see above)
};

struct BeamSearchStats {
  int64_t steps = 0;                // decoder steps run
  int64_t rows_scored = 0;          // hypotheses the model scored, all steps together
  int64_t finished_early = 0;       // hypotheses completed without running the model to the end
  int64_t max_live_hypotheses = 0;  // most rows of one step
};

class ConstrainedBeamSearch {
 public:
  ConstrainedBeamSearch(const PrefixTrie& trie, BeamSearchOptions options);
  // Decodes `batch_size` batch items (the decoder's batch); returns per item up to beam_size
  // distinct items' IDs, best first.
  std::vector<std::vector<Hypothesis>> search(StepDecoder& decoder, int64_t batch_size);
  const BeamSearchStats& stats() const { return stats_; }

 private:
  const PrefixTrie& trie_;
  BeamSearchOptions options_;
  BeamSearchStats stats_;
};

}  // namespace recsys::seqrec
