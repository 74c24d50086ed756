#include "sequential_rec/beam_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "recsys/error.h"
#include "sequential_rec/internal/parallel.h"
#include "sequential_rec/prefix_trie.h"
#include "sequential_rec/tiger.h"
#include "tests/seqrec/synthetic.h"

namespace recsys::seqrec {
namespace {

// Encoder input layout: one position per token or per item, with or without item tokens.
struct Layout {
  bool item_inputs = false;
  bool item_ids = false;
};

Tiger tiny_tiger(const IdMap& map, uint64_t seed, Layout layout = {}) {
  torch::manual_seed(seed);
  std::vector<int64_t> vocab(map.vocab.begin(), map.vocab.end());
  Tiger model(TigerOptions(vocab)
                  .num_user_tokens(8)
                  .max_items(5)
                  .d_model(16)
                  .num_heads(2)
                  .head_dim(12)
                  .d_ff(32)
                  .encoder_layers(2)
                  .decoder_layers(2)
                  .dropout(0.1)
                  .item_inputs(layout.item_inputs)
                  .num_item_tokens(layout.item_ids ? static_cast<int64_t>(map.ids.size()) : 0));
  // Larger weights than the default init so the scores are far from uniform (no near-ties).
  torch::NoGradGuard ng;
  for (auto& p : model->parameters()) p.mul_(3.0);
  model->eval();
  return model;
}

std::vector<Query> some_queries(size_t num_items) {
  std::vector<Query> q;
  for (UserIndex u = 0; u < 6; ++u) {
    Query x;
    x.user = u;
    for (size_t j = 0; j < 1 + u % 4; ++j) x.history.push_back((u * 7 + j * 3) % num_items);
    q.push_back(x);
  }
  return q;
}

// Scores every item of the catalogue by teacher forcing its full ID, each step renormalised over
// the tokens the catalogue allows after that prefix (the beam search's definition), computed
// independently: the log-probabilities of a prefix's allowed tokens are read off the items that
// continue it.
torch::Tensor source(Tiger& model, const IdMap& map, const std::vector<Query>& queries) {
  return tiger_source(model->vocab(), map, queries, model->options().max_items(),
                      model->options().item_inputs());
}

// Item `item`'s ID as a [1, L] target.
torch::Tensor id_codes(const IdMap& map, ItemIndex item) {
  const auto& id = map.ids[item];
  return torch::tensor(std::vector<int64_t>(id.begin(), id.end())).view({1, -1});
}

std::vector<float> catalogue_scores(Tiger& model, const IdMap& map, const Query& query) {
  const int64_t n = map.ids.size(), l = map.length();
  auto src = source(model, map, {query});
  auto rows = src.sizes().vec();
  rows[0] = n;
  auto codes = torch::empty({n, l}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < l; ++p) codes[i][p] = map.ids[i][p];
  }
  auto lp = model->token_log_probs(src.expand(rows).contiguous(), codes);
  auto a = lp.accessor<float, 2>();
  std::vector<float> score(n, 0.f);
  for (int64_t p = 0; p < l; ++p) {
    // prefix -> (next token -> log-prob)
    std::map<SemanticId, std::map<Token, float>> next;
    for (int64_t i = 0; i < n; ++i) {
      SemanticId prefix(map.ids[i].begin(), map.ids[i].begin() + p);
      next[prefix].emplace(map.ids[i][p], a[i][p]);
    }
    for (int64_t i = 0; i < n; ++i) {
      const auto& options = next[SemanticId(map.ids[i].begin(), map.ids[i].begin() + p)];
      if (options.size() == 1) continue;  // the only allowed token
      double z = 0;
      for (const auto& [t, v] : options) z += std::exp(static_cast<double>(v));
      score[i] += a[i][p] - static_cast<float>(std::log(z));
    }
  }
  return score;
}

std::vector<std::pair<float, ItemIndex>> exhaustive(Tiger& model, const IdMap& map,
                                                    const Query& query) {
  auto score = catalogue_scores(model, map, query);
  std::vector<std::pair<float, ItemIndex>> scored;
  for (size_t i = 0; i < score.size(); ++i) scored.push_back({score[i], ItemIndex(i)});
  std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
  return scored;
}

class EncoderInputTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  static Layout layout() { return {std::get<0>(GetParam()), std::get<1>(GetParam())}; }
};
// (item inputs?, item tokens?)
INSTANTIATE_TEST_SUITE_P(TokensOrItemsWithOrWithoutItemTokens, EncoderInputTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

TEST_P(EncoderInputTest, FullBeamEqualsExhaustiveScoring) {
  torch::NoGradGuard ng;
  // One OpenBLAS thread, as every decoding shard runs: threaded AVX2 sgemm
  // (OPENBLAS_CORETYPE=Haswell) rounds differently from its one-thread sgemm, by 1.8e-4 on a score
  // of -30 here.
  internal::BlasThreadsGuard one_blas_thread(1);
  IdMap map = testing::random_id_map(40, {4, 5}, 3, 11);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  ASSERT_GT(trie.stats().single_item_nodes_per_level[2], 0u) << "no item finishes early";
  Tiger model = tiny_tiger(map, 3, layout());
  auto queries = some_queries(map.ids.size());
  auto src = source(model, map, queries);
  TigerStepDecoder decoder(model, src);
  ConstrainedBeamSearch search(trie, {/*beam_size=*/64});
  auto hyps = search.search(decoder, queries.size());
  ASSERT_EQ(hyps.size(), queries.size());
  EXPECT_GT(search.stats().finished_early, 0);
  for (size_t q = 0; q < queries.size(); ++q) {
    auto expected = exhaustive(model, map, queries[q]);
    ASSERT_EQ(hyps[q].size(), map.ids.size()) << "query " << q;
    double total = 0;
    for (size_t r = 0; r < expected.size(); ++r) {
      SemanticId id(hyps[q][r].tokens.begin(), hyps[q][r].tokens.end());
      auto item = trie.item(id);
      ASSERT_TRUE(item) << "invalid ID " << format_semantic_id(id);
      EXPECT_EQ(hyps[q][r].item, *item) << "query " << q << " rank " << r;
      EXPECT_EQ(*item, expected[r].second) << "query " << q << " rank " << r;
      // Float32 rounding: decoding a batch (cached, padded) and scoring one query alone differ by
      // up to ~6e-5 of the score on this deliberately peaked model, in every layout.
      EXPECT_NEAR(hyps[q][r].score, expected[r].first,
                  1e-4 * std::max(1.0, std::abs(double(expected[r].first))))
          << "query " << q << " rank " << r;
      total += std::exp(hyps[q][r].score);
    }
    EXPECT_NEAR(total, 1.0, 1e-4) << "scores are a distribution over the catalogue";
  }
}

TEST(ConstrainedBeamSearchTest, NarrowBeamOnlyYieldsValidIds) {
  torch::NoGradGuard ng;
  // Sparse catalogue: 60 items in a space of 8*8*8*4 IDs, most prefixes invalid.
  IdMap map = testing::random_id_map(60, {8, 8, 8}, 4, 5);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 9);
  auto queries = some_queries(map.ids.size());
  auto src = source(model, map, queries);
  TigerStepDecoder decoder(model, src);
  ConstrainedBeamSearch search(trie, {/*beam_size=*/5});
  auto hyps = search.search(decoder, queries.size());
  for (const auto& per_query : hyps) {
    ASSERT_EQ(per_query.size(), 5u);
    std::set<SemanticId> distinct;
    for (size_t r = 0; r < per_query.size(); ++r) {
      SemanticId id(per_query[r].tokens.begin(), per_query[r].tokens.end());
      EXPECT_TRUE(trie.contains(id)) << format_semantic_id(id);
      EXPECT_EQ(trie.item(id), per_query[r].item);
      distinct.insert(id);
      if (r > 0) {
        EXPECT_GE(per_query[r - 1].score, per_query[r].score);
      }
    }
    EXPECT_EQ(distinct.size(), per_query.size());
  }
}

// A model that puts almost all mass on tokens the catalogue does not allow (the highest token of
// each position, which no item uses) and counts what it is asked to score.
class InvalidLovingDecoder : public StepDecoder {
 public:
  explicit InvalidLovingDecoder(int64_t vocab) : vocab_(vocab) {}
  torch::Tensor step(int64_t, const torch::Tensor& input,
                     const torch::Tensor& batch_index) override {
    rows += input.size(0);
    auto lp = torch::full({input.size(0), vocab_}, -20.f);
    lp.select(1, vocab_ - 1).fill_(0.f);
    // Distinct scores for the allowed tokens: lower tokens more likely.
    lp.narrow(1, 0, vocab_ - 1).sub_(torch::arange(vocab_ - 1, torch::kFloat).mul(0.1));
    EXPECT_EQ(batch_index.size(0), input.size(0));
    return lp;
  }
  void reorder(const torch::Tensor&) override {}
  int64_t rows = 0;

 private:
  int64_t vocab_;
};

TEST(ConstrainedBeamSearchTest, ConstraintHoldsAgainstAModelThatPrefersInvalidTokens) {
  // Codes 0..6 of 8 and suffix 0..2 of 4 are used: the model's favourite is never allowed.
  IdMap map = testing::random_id_map(40, {7, 7}, 3, 21);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  InvalidLovingDecoder decoder(8);
  ConstrainedBeamSearch search(trie, {/*beam_size=*/10});
  auto hyps = search.search(decoder, 3);
  ASSERT_EQ(hyps.size(), 3u);
  for (const auto& per_query : hyps) {
    ASSERT_EQ(per_query.size(), 10u);
    for (const auto& h : per_query) {
      EXPECT_TRUE(trie.contains(SemanticId(h.tokens.begin(), h.tokens.end())));
    }
  }
  // The model was only asked about hypotheses that did not already name an item.
  EXPECT_EQ(decoder.rows, search.stats().rows_scored);
  EXPECT_GT(search.stats().finished_early, 0);
}

TEST(ConstrainedBeamSearchTest, OneItemCatalogueNeedsNoModel) {
  PrefixTrie trie(std::vector<SemanticId>{{3, 1, 0}});
  InvalidLovingDecoder decoder(8);
  ConstrainedBeamSearch search(trie, {/*beam_size=*/4});
  auto hyps = search.search(decoder, 2);
  ASSERT_EQ(hyps.size(), 2u);
  for (const auto& per_query : hyps) {
    ASSERT_EQ(per_query.size(), 1u);
    EXPECT_EQ(per_query[0].tokens, (std::vector<int64_t>{3, 1, 0}));
    EXPECT_EQ(per_query[0].item, 0u);
    EXPECT_EQ(per_query[0].score, 0.f);
  }
  EXPECT_EQ(decoder.rows, 0);
}

TEST_P(EncoderInputTest, CachedDecodingMatchesTeacherForcing) {
  // Greedy (beam 1) decoding with the KV cache scores its item exactly as teacher forcing does;
  // users finish at different steps, so the rows of a step are a ragged subset of the batch.
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(30, {4, 4}, 2, 2);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 4, layout());
  auto queries = some_queries(map.ids.size());
  auto src = source(model, map, queries);
  TigerStepDecoder decoder(model, src);
  ConstrainedBeamSearch search(trie, {/*beam_size=*/1});
  auto hyps = search.search(decoder, queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    ASSERT_EQ(hyps[q].size(), 1u);
    auto item = trie.item(SemanticId(hyps[q][0].tokens.begin(), hyps[q][0].tokens.end()));
    ASSERT_TRUE(item);
    EXPECT_NEAR(hyps[q][0].score, catalogue_scores(model, map, queries[q])[*item], 1e-4);
  }
}

TEST_P(EncoderInputTest, PaddingChangesNothing) {
  // A query scored alone and in a batch beside a longer history (so left-padded, and with item
  // inputs a padded user row) gets the same log-probabilities.
  torch::NoGradGuard ng;
  internal::BlasThreadsGuard one_blas_thread(1);
  IdMap map = testing::random_id_map(30, {4, 4}, 2, 2);
  Tiger model = tiny_tiger(map, 6, layout());
  auto queries = some_queries(map.ids.size());  // histories of 1 to 4 items
  auto codes = id_codes(map, 7);
  for (size_t q = 0; q < 2; ++q) {
    auto alone = model->token_log_probs(source(model, map, {queries[q]}), codes);
    auto both = model->token_log_probs(source(model, map, {queries[q], queries[3]}),
                                       codes.expand({2, 3}).contiguous());
    ASSERT_LT(queries[q].history.size(), queries[3].history.size());
    EXPECT_TRUE(torch::allclose(alone[0], both[0], 1e-5, 1e-5)) << alone << " vs " << both[0];
  }
  // Nor does the padding token's embedding (with item inputs it fills the user row), nor the item
  // token of an item outside the history.
  auto before = model->token_log_probs(source(model, map, {queries[0]}), codes);
  model->embedding->weight[TigerVocab::kPad].normal_(0.0, 1.0);
  if (layout().item_ids) {
    const auto& history = queries[0].history;
    ASSERT_EQ(std::count(history.begin(), history.end(), ItemIndex(29)), 0);
    model->embedding->weight[model->vocab().item_token(29)].normal_(0.0, 1.0);
  }
  auto after = model->token_log_probs(source(model, map, {queries[0]}), codes);
  EXPECT_TRUE(torch::allclose(before, after, 1e-5, 1e-5)) << before << " vs " << after;
}

TEST(TigerSourceTest, ItemTokensFollowEachItemsIdTokens) {
  IdMap map = testing::random_id_map(30, {4, 4}, 2, 2);
  const int64_t l = map.length();
  TigerVocab vocab(std::vector<int64_t>(map.vocab.begin(), map.vocab.end()), 8, 30);
  EXPECT_EQ(vocab.tokens_per_item(), l + 1);
  EXPECT_EQ(vocab.item_offset, vocab.user_offset + 8);
  EXPECT_EQ(vocab.size, vocab.item_offset + 30);
  EXPECT_EQ(vocab.item_token(29), vocab.size - 1);
  EXPECT_THROW(vocab.item_token(30), Error);
  EXPECT_THROW(TigerVocab(vocab.code_vocab, 8, -1), Error);
  Query q;
  q.user = 5;
  q.history = {3, 17};
  Query longer = q;
  longer.history.insert(longer.history.begin(), 9);
  // Expected row of each item: its codes at their offsets, then its item token.
  auto item_row = [&](ItemIndex item) {
    std::vector<int64_t> row;
    for (int64_t p = 0; p < l; ++p) row.push_back(vocab.input_offset[p] + map.ids[item][p]);
    row.push_back(vocab.item_token(item));
    return row;
  };
  // Flat: [pad * (l + 1)] user, item 3's tokens, item 17's tokens.
  auto flat = tiger_source(vocab, map, {q, longer}, 5, false);
  ASSERT_EQ(flat.sizes().vec(), (std::vector<int64_t>{2, 1 + 3 * (l + 1)}));
  std::vector<int64_t> expected(l + 1, TigerVocab::kPad);
  expected.push_back(vocab.user_token(5));
  for (ItemIndex item : q.history) {
    auto row = item_row(item);
    expected.insert(expected.end(), row.begin(), row.end());
  }
  auto got = flat[0].contiguous();
  EXPECT_EQ(std::vector<int64_t>(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + got.numel()),
            expected);
  // Item rows: a padding row, the user row, one row per item.
  auto rows = tiger_source(vocab, map, {q, longer}, 5, true);
  ASSERT_EQ(rows.sizes().vec(), (std::vector<int64_t>{2, 4, l + 1}));
  EXPECT_TRUE(rows[0][0].eq(TigerVocab::kPad).all().item<bool>());
  EXPECT_EQ(rows[0][1][0].item<int64_t>(), vocab.user_token(5));
  EXPECT_TRUE(rows[0][1].narrow(0, 1, l).eq(TigerVocab::kPad).all().item<bool>());
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(rows[0][2 + i].equal(torch::tensor(item_row(q.history[i]))));
  }
  EXPECT_TRUE(rows[1][1].equal(torch::tensor(item_row(9))));
}

TEST(TigerSourceTest, TheModelReadsTheItemTokensOfTheHistory) {
  // A history item's own embedding moves the scores in both layouts.
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(30, {4, 4}, 2, 2);
  for (bool item_inputs : {false, true}) {
    Tiger model = tiny_tiger(map, 6, {item_inputs, true});
    Query q;
    q.user = 1;
    q.history = {3, 17};
    auto codes = id_codes(map, 7);
    auto before = model->token_log_probs(source(model, map, {q}), codes);
    model->embedding->weight[model->vocab().item_token(17)].normal_(0.0, 1.0);
    auto after = model->token_log_probs(source(model, map, {q}), codes);
    EXPECT_GT((before - after).abs().max().item<float>(), 1e-3) << "item inputs " << item_inputs;
  }
}

TEST(ConstrainedBeamSearchTest, CudaDecodingMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(40, {4, 5}, 3, 11);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 3);
  auto queries = some_queries(map.ids.size());
  auto src = source(model, map, queries);
  TigerStepDecoder cpu(model, src);
  ConstrainedBeamSearch search(trie, {10});
  auto expected = search.search(cpu, queries.size());
  model->to(torch::kCUDA);
  TigerStepDecoder gpu(model, src.to(torch::kCUDA));
  auto got = search.search(gpu, queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    ASSERT_EQ(got[q].size(), expected[q].size());
    for (size_t r = 0; r < got[q].size(); ++r) {
      EXPECT_NEAR(got[q][r].score, expected[q][r].score, 1e-3);
    }
  }
}

}  // namespace
}  // namespace recsys::seqrec
