#include "sequential_rec/beam_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "recsys/error.h"

namespace recsys::seqrec {
namespace {

using NodeId = PrefixTrie::NodeId;

struct Beam {
  NodeId node = PrefixTrie::kRoot;
  float score = 0.f;
  int64_t row = -1;  // row of the step just scored that this beam continues; -1 once finished
  std::vector<Token> tokens;
};

struct Candidate {
  float score;
  int32_t beam;    // index into the batch item's beams
  NodeId child;    // trie node reached (unused when the beam is carried over finished)
  bool extends;    // false: a finished beam carried over as is
};

// Completes a beam whose prefix names a single item: follows the only path down to its leaf.
void complete_single_item(const PrefixTrie& trie, Beam& beam) {
  while (!trie.is_leaf(beam.node)) {
    beam.node = trie.first_child(beam.node);
    beam.tokens.push_back(trie.token(beam.node));
  }
}

}  // namespace

ConstrainedBeamSearch::ConstrainedBeamSearch(const PrefixTrie& trie, BeamSearchOptions options)
    : trie_(trie), options_(options) {
  RECSYS_CHECK(options_.beam_size > 0, "beam size must be positive, got ", options_.beam_size);
}

std::vector<std::vector<Hypothesis>> ConstrainedBeamSearch::search(StepDecoder& decoder,
                                                                   int64_t batch_size) {
  RECSYS_CHECK(trie_.num_items() > 0, "constrained beam search over an empty catalogue");
  const size_t k = static_cast<size_t>(options_.beam_size);
  stats_ = {};
  // Step 0 scores one row per batch item (the start token), unless the catalogue has one item.
  const bool single = trie_.num_items_below(PrefixTrie::kRoot) == 1;
  std::vector<std::vector<Beam>> beams(batch_size);
  std::vector<int64_t> input, batch_index, parent;
  for (int64_t b = 0; b < batch_size; ++b) {
    Beam root;
    if (single) {
      complete_single_item(trie_, root);
    } else {
      root.row = b;
      input.push_back(-1);
      batch_index.push_back(b);
    }
    beams[b].push_back(std::move(root));
  }
  auto long_opts = torch::TensorOptions().dtype(torch::kLong);
  std::vector<Candidate> cand;
  for (size_t step = 0; step < trie_.depth(); ++step) {
    const int64_t rows = static_cast<int64_t>(input.size());
    if (rows == 0) break;
    if (step > 0) decoder.reorder(torch::tensor(parent, long_opts));
    torch::Tensor lp =
        decoder.step(static_cast<int64_t>(step), torch::tensor(input, long_opts),
                     torch::tensor(batch_index, long_opts))
            .to(torch::kCPU, torch::kFloat)
            .contiguous();
    RECSYS_CHECK(lp.dim() == 2 && lp.size(0) == rows, "decoder returned ", lp.sizes(), " for ",
                 rows, " rows");
    const int64_t v = lp.size(1);
    const float* lpd = lp.data_ptr<float>();
    ++stats_.steps;
    stats_.rows_scored += rows;
    stats_.max_live_hypotheses = std::max(stats_.max_live_hypotheses, rows);

    input.clear();
    batch_index.clear();
    parent.clear();
    for (int64_t b = 0; b < batch_size; ++b) {
      auto& bb = beams[b];
      cand.clear();
      for (size_t j = 0; j < bb.size(); ++j) {
        const Beam& beam = bb[j];
        if (beam.row < 0) {
          cand.push_back({beam.score, static_cast<int32_t>(j), beam.node, false});
          continue;
        }
        const Token* tok = trie_.child_tokens_begin(beam.node);
        const size_t c = trie_.num_children(beam.node);
        const NodeId first = trie_.first_child(beam.node);
        RECSYS_CHECK(c > 0 && tok[c - 1] < v, "token ", tok[c - 1], " at ID position ", step,
                     " is outside the model's ", v, " codes");
        if (c == 1) {  // the only allowed token: probability one given the catalogue
          cand.push_back({beam.score, static_cast<int32_t>(j), first, true});
          continue;
        }
        const float* row = lpd + beam.row * v;
        float mx = -std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < c; ++i) mx = std::max(mx, row[tok[i]]);
        double sum = 0;
        for (size_t i = 0; i < c; ++i) sum += std::exp(static_cast<double>(row[tok[i]] - mx));
        const float lse = mx + static_cast<float>(std::log(sum));
        for (size_t i = 0; i < c; ++i) {
          float s = beam.score + (row[tok[i]] - lse);
          if (std::isnan(s)) s = -std::numeric_limits<float>::infinity();
          cand.push_back({s, static_cast<int32_t>(j), static_cast<NodeId>(first + i), true});
        }
      }
      // Best k; ties keep candidate order, so the result does not depend on the sort.
      const size_t keep = std::min(k, cand.size());
      std::vector<size_t> order(cand.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](size_t x, size_t y) {
        return cand[x].score > cand[y].score || (cand[x].score == cand[y].score && x < y);
      });
      std::vector<Beam> next;
      next.reserve(keep);
      for (size_t i = 0; i < keep; ++i) {
        const Candidate& ca = cand[order[i]];
        const Beam& from = bb[ca.beam];
        if (!ca.extends) {
          next.push_back(from);
          continue;
        }
        Beam nb;
        nb.node = ca.child;
        nb.score = ca.score;
        nb.tokens = from.tokens;
        nb.tokens.push_back(trie_.token(nb.node));
        if (trie_.num_items_below(nb.node) == 1) {
          if (!trie_.is_leaf(nb.node)) ++stats_.finished_early;
          complete_single_item(trie_, nb);
        } else {
          nb.row = static_cast<int64_t>(input.size());
          input.push_back(nb.tokens.back());
          batch_index.push_back(b);
          parent.push_back(from.row);
        }
        next.push_back(std::move(nb));
      }
      bb = std::move(next);
    }
  }
  std::vector<std::vector<Hypothesis>> out(batch_size);
  for (int64_t b = 0; b < batch_size; ++b) {
    for (const Beam& beam : beams[b]) {
      if (!std::isfinite(beam.score)) continue;
      Hypothesis h;
      h.item = trie_.leaf_item(beam.node);
      h.score = beam.score;
      h.tokens.assign(beam.tokens.begin(), beam.tokens.end());
      out[b].push_back(std::move(h));
    }
  }
  return out;
}

}  // namespace recsys::seqrec
