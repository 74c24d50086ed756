#include "sequential_rec/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace recsys::seqrec {
namespace {

TEST(AttentionTest, LinearMatchesTheModuleOnAnyRank) {
  torch::manual_seed(3);
  torch::nn::Linear layer(8, 5);
  for (bool grad : {true, false}) {  // training path and the fused decoding path
    torch::AutoGradMode mode(grad);
    for (const auto& shape : std::vector<std::vector<int64_t>>{{4, 8}, {3, 4, 8}, {2, 3, 1, 8}}) {
      auto x = torch::randn(shape);
      auto got = linear(layer, x);
      auto want = layer->forward(x);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << "grad " << grad;
    }
    // A non-contiguous input (heads merged by a transpose) gives the same result too.
    auto t = torch::randn({3, 8, 4}).transpose(1, 2);
    EXPECT_TRUE(torch::allclose(linear(layer, t), layer->forward(t), 1e-5, 1e-6));
  }
}

TEST(AttentionTest, IncrementalStepsMatchTheCausalForwardPass) {
  torch::manual_seed(5);
  MultiHeadAttention attn(MultiHeadAttentionOptions(16, 3, 4));
  attn->eval();
  auto x = torch::randn({2, 5, 16});
  auto full = attn->forward(x, causal_mask(5, torch::kCPU));
  KeyValue cache;
  for (int64_t t = 0; t < 5; ++t) {
    auto y = attn->step(x.narrow(1, t, 1), cache);
    EXPECT_TRUE(torch::allclose(y, full.narrow(1, t, 1), 1e-5, 1e-5)) << "position " << t;
  }
  EXPECT_EQ(cache.k.size(2), 5);
}

}  // namespace
}  // namespace recsys::seqrec
