#include <gtest/gtest.h>

#include <random>
#include <set>

#include "indexer/collision_suffix.h"
#include "indexer/rq_vae_indexer.h"

namespace recsys::indexer {
namespace {

TEST(RqVaeIndexerTest, ReconstructionLossFallsAndCodesAreUsed) {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0.f, 1.f);
  const int n = 400, dim = 16, clusters = 8;
  RowMatrix centers(clusters, dim);
  for (int i = 0; i < centers.size(); ++i) centers.data()[i] = 3 * g(rng);
  RowMatrix x(n, dim);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) x(i, d) = centers(i % clusters, d) + 0.5f * g(rng);
  IndexerOptions o;
  o.levels = 2;
  o.codebook_size = 8;
  o.rqvae_hidden = {32};
  o.rqvae_latent = 4;
  o.rqvae_epochs = 40;
  o.rqvae_batch_size = 64;
  o.rqvae_reset_every = 5;
  o.seed = 1;
  RqVaeIndexer ix(o);
  const CodeAssignment a = ix.assign(x);
  ASSERT_EQ(ix.history().size(), 40u);
  const auto& first = ix.history().front();
  const auto& last = ix.history().back();
  EXPECT_LT(last.reconstruction, 0.5 * first.reconstruction);
  for (double u : last.usage) EXPECT_GE(u, 0.75);
  ASSERT_EQ(a.codes.size(), static_cast<size_t>(n));
  std::set<Token> used0;
  for (const auto& c : a.codes) used0.insert(c[0]);
  EXPECT_GE(used0.size(), 6u);
  // Unique after the suffix.
  const IdMap map = make_id_map("rq", "rqvae", a.codes, a.vocab);
  EXPECT_NO_THROW(map.validate());
}

}  // namespace
}  // namespace recsys::indexer
