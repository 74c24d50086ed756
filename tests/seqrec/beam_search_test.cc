#include "sequential_rec/beam_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "sequential_rec/prefix_trie.h"
#include "sequential_rec/tiger.h"
#include "tests/seqrec/synthetic.h"

namespace recsys::seqrec {
namespace {

Tiger tiny_tiger(const IdMap& map, uint64_t seed) {
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
                  .dropout(0.1));
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

// Scores every item of the catalogue by teacher forcing its full ID.
std::vector<std::pair<float, ItemIndex>> exhaustive(Tiger& model, const IdMap& map,
                                                    const Query& query) {
  const int64_t n = map.ids.size(), l = map.length();
  auto src = tiger_source(model->vocab(), map, {query}, model->options().max_items());
  auto codes = torch::empty({n, l}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < l; ++p) codes[i][p] = map.ids[i][p];
  }
  auto lp = model->token_log_probs(src.expand({n, src.size(1)}).contiguous(), codes).sum(1);
  std::vector<std::pair<float, ItemIndex>> scored;
  for (int64_t i = 0; i < n; ++i) scored.push_back({lp[i].item<float>(), ItemIndex(i)});
  std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
  return scored;
}

TEST(ConstrainedBeamSearchTest, FullBeamEqualsExhaustiveScoring) {
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(40, {4, 5}, 3, 11);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 3);
  auto queries = some_queries(map.ids.size());
  auto src = tiger_source(model->vocab(), map, queries, model->options().max_items());
  TigerStepDecoder decoder(model, src);
  BeamSearch search({/*beam_size=*/64, /*num_steps=*/3});
  auto hyps = search.search(decoder, queries.size(), {std::make_shared<TrieConstraint>(trie)});
  ASSERT_EQ(hyps.size(), queries.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    auto expected = exhaustive(model, map, queries[q]);
    ASSERT_EQ(hyps[q].size(), map.ids.size()) << "query " << q;
    for (size_t r = 0; r < expected.size(); ++r) {
      SemanticId id(hyps[q][r].tokens.begin(), hyps[q][r].tokens.end());
      auto item = trie.item(id);
      ASSERT_TRUE(item) << "invalid ID " << format_semantic_id(id);
      EXPECT_EQ(*item, expected[r].second) << "query " << q << " rank " << r;
      EXPECT_NEAR(hyps[q][r].score, expected[r].first, 1e-4) << "query " << q << " rank " << r;
    }
  }
}

TEST(ConstrainedBeamSearchTest, NarrowBeamOnlyYieldsValidIds) {
  torch::NoGradGuard ng;
  // Sparse catalogue: 60 items in a space of 8*8*8*4 IDs, most prefixes invalid.
  IdMap map = testing::random_id_map(60, {8, 8, 8}, 4, 5);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 9);
  auto queries = some_queries(map.ids.size());
  auto src = tiger_source(model->vocab(), map, queries, model->options().max_items());
  TigerStepDecoder decoder(model, src);
  BeamSearch search({/*beam_size=*/5, /*num_steps=*/4});
  auto hyps = search.search(decoder, queries.size(), {std::make_shared<TrieConstraint>(trie)});
  for (const auto& per_query : hyps) {
    ASSERT_EQ(per_query.size(), 5u);
    std::set<SemanticId> distinct;
    for (size_t r = 0; r < per_query.size(); ++r) {
      SemanticId id(per_query[r].tokens.begin(), per_query[r].tokens.end());
      EXPECT_TRUE(trie.contains(id)) << format_semantic_id(id);
      distinct.insert(id);
      if (r > 0) EXPECT_GE(per_query[r - 1].score, per_query[r].score);
    }
    EXPECT_EQ(distinct.size(), per_query.size());
  }
}

TEST(ConstrainedBeamSearchTest, UnconstrainedSearchCanLeaveTheCatalogue) {
  // The same sparse setting without the constraint produces IDs outside the catalogue: the trie
  // processor is what keeps beams valid (guards against a test that passes vacuously).
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(60, {8, 8, 8}, 4, 5);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 9);
  auto queries = some_queries(map.ids.size());
  auto src = tiger_source(model->vocab(), map, queries, model->options().max_items());
  TigerStepDecoder decoder(model, src);
  BeamSearch search({5, 4});
  auto hyps = search.search(decoder, queries.size(), {});
  size_t invalid = 0;
  for (const auto& per_query : hyps) {
    for (const auto& h : per_query) {
      if (!trie.contains(SemanticId(h.tokens.begin(), h.tokens.end()))) ++invalid;
    }
  }
  EXPECT_GT(invalid, 0u);
}

TEST(ConstrainedBeamSearchTest, CachedDecodingMatchesTeacherForcing) {
  // Greedy (beam 1) decoding with the KV cache scores its path exactly as the full forward pass.
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(30, {4, 4}, 2, 2);
  Tiger model = tiny_tiger(map, 4);
  auto queries = some_queries(map.ids.size());
  auto src = tiger_source(model->vocab(), map, queries, model->options().max_items());
  TigerStepDecoder decoder(model, src);
  BeamSearch search({1, 3});
  auto hyps = search.search(decoder, queries.size(), {});
  auto codes = torch::empty({static_cast<int64_t>(queries.size()), 3}, torch::kLong);
  for (size_t q = 0; q < queries.size(); ++q) {
    for (int p = 0; p < 3; ++p) codes[q][p] = hyps[q][0].tokens[p];
  }
  auto lp = model->token_log_probs(src, codes).sum(1);
  for (size_t q = 0; q < queries.size(); ++q) {
    EXPECT_NEAR(hyps[q][0].score, lp[q].item<float>(), 1e-4);
  }
}

TEST(ConstrainedBeamSearchTest, CudaDecodingMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::NoGradGuard ng;
  IdMap map = testing::random_id_map(40, {4, 5}, 3, 11);
  PrefixTrie trie = PrefixTrie::from_id_map(map);
  Tiger model = tiny_tiger(map, 3);
  auto queries = some_queries(map.ids.size());
  auto src = tiger_source(model->vocab(), map, queries, model->options().max_items());
  TigerStepDecoder cpu(model, src);
  BeamSearch search({10, 3});
  auto expected = search.search(cpu, queries.size(), {std::make_shared<TrieConstraint>(trie)});
  model->to(torch::kCUDA);
  TigerStepDecoder gpu(model, src.to(torch::kCUDA));
  auto got = search.search(gpu, queries.size(), {std::make_shared<TrieConstraint>(trie)});
  for (size_t q = 0; q < queries.size(); ++q) {
    ASSERT_EQ(got[q].size(), expected[q].size());
    for (size_t r = 0; r < got[q].size(); ++r) {
      EXPECT_NEAR(got[q][r].score, expected[q][r].score, 1e-3);
    }
  }
}

}  // namespace
}  // namespace recsys::seqrec
