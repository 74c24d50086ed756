// internal::run_shards must really run its shards at the same time (a build without OpenMP turns
// at::parallel_for into a serial loop), with torch operations inside a shard single-threaded; the
// seeded dropout masks must be the right masks and a pure function of the seed.
#include "sequential_rec/internal/parallel.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

namespace recsys::seqrec::internal {
namespace {

class ThreadsGuard {
 public:
  explicit ThreadsGuard(int n) : previous_(at::get_num_threads()) { at::set_num_threads(n); }
  ~ThreadsGuard() { at::set_num_threads(previous_); }

 private:
  int previous_;
};

TEST(RunShardsTest, ShardsRunConcurrentlyAndSingleThreaded) {
  ThreadsGuard threads(2);
  ASSERT_EQ(shard_threads(), 2);
  std::atomic<int> started{0};
  std::atomic<int> met{0};
  std::atomic<int> nested_parallel{0};
  run_shards(2, [&](int64_t) {
    started.fetch_add(1);
    // Each shard waits for the other one to start: only possible if both run at once.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (started.load() == 2) met.fetch_add(1);
    if (at::in_parallel_region() && shard_threads() == 1) nested_parallel.fetch_add(1);
  });
  EXPECT_EQ(met.load(), 2) << "the shards ran one after the other";
  EXPECT_EQ(nested_parallel.load(), 2) << "operations inside a shard would spawn threads";
}

TEST(RunShardsTest, EveryShardRunsOnceAndErrorsReachTheCaller) {
  ThreadsGuard threads(2);
  std::vector<std::atomic<int>> runs(5);
  run_shards(5, [&](int64_t s) { runs[s].fetch_add(1); });
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  EXPECT_THROW(run_shards(2,
                          [](int64_t s) {
                            if (s == 1) throw std::runtime_error("shard failed");
                          }),
               std::runtime_error);
}

// The retry of a failed kernel creation (internal/kernel_retry.h) catches std::bad_alloc: a shard's
// exception must reach the caller with its type, not converted to another error.
TEST(RunShardsTest, ErrorsKeepTheirType) {
  ThreadsGuard threads(2);
  EXPECT_THROW(run_shards(2,
                          [](int64_t s) {
                            if (s == 0) throw std::bad_array_new_length();
                          }),
               std::bad_array_new_length);
}

TEST(RunShardsTest, OneThreadMeansOneOpenBlasThread) {
  if (openblas_threads() == 0) GTEST_SKIP() << "the BLAS in use is not OpenBLAS";
  ThreadsGuard threads(1);
  int inside = -1;
  run_shards(1, [&](int64_t) { inside = openblas_threads(); });
  EXPECT_EQ(inside, 1);
  ThreadsGuard two(2);
  run_shards(2, [&](int64_t s) {
    if (s == 0) inside = openblas_threads();
  });
  EXPECT_EQ(inside, 1) << "each shard is single-threaded";
}

TEST(PinnedBlasKernelsTest, WarnsOnlyWhenTheVariableHoldsAnAvx512CpuBelowAvx512) {
  EXPECT_NE(pinned_blas_kernels_warning("Haswell", "Haswell", true), "");
  EXPECT_NE(pinned_blas_kernels_warning("Zen", "ZEN", true).find("OPENBLAS_CORETYPE=ZEN"),
            std::string::npos);
  EXPECT_EQ(pinned_blas_kernels_warning("Haswell", nullptr, true), "") << "OpenBLAS's own choice";
  EXPECT_EQ(pinned_blas_kernels_warning("Haswell", "", true), "");
  EXPECT_EQ(pinned_blas_kernels_warning("Haswell", "Haswell", false), "") << "no AVX-512 to lose";
  EXPECT_EQ(pinned_blas_kernels_warning("SkylakeX", "SkylakeX", true), "");
  EXPECT_EQ(pinned_blas_kernels_warning("Cooperlake", "COOPERLAKE", true), "");
  EXPECT_EQ(pinned_blas_kernels_warning("", "Haswell", true), "") << "not OpenBLAS";
}

TEST(DropoutTest, SeededMasksKeepTheRightShareAndScale) {
  const auto x = torch::ones({1000, 1000});
  torch::Tensor y;
  {
    ScopedDropoutStream stream(11);
    y = internal::dropout(x, 0.1, /*training=*/true);
  }
  const double kept = y.ne(0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.9, 0.002);  // 1e6 draws: standard error 0.0003
  const auto values = std::get<0>(torch::_unique(y));
  ASSERT_EQ(values.numel(), 2);
  EXPECT_FLOAT_EQ(values[1].item<float>(), 1.f / 0.9f);
  // Rows and columns are not correlated (each 64-bit word feeds 4 neighbouring elements).
  const auto row_share = y.ne(0).to(torch::kDouble).mean(1);
  EXPECT_LT(row_share.std().item<double>(), 0.02);
}

TEST(DropoutTest, MasksArePureFunctionsOfTheSeedAndCallOrder) {
  const auto x = torch::ones({257});
  auto masks = [&](uint64_t seed) {
    ScopedDropoutStream stream(seed);
    auto a = internal::dropout(x, 0.5, true);
    auto b = internal::dropout(x, 0.5, true);
    return std::make_pair(a, b);
  };
  const auto [a1, b1] = masks(3);
  const auto [a2, b2] = masks(3);
  const auto [a3, b3] = masks(4);
  EXPECT_TRUE(a1.equal(a2));
  EXPECT_TRUE(b1.equal(b2));
  EXPECT_FALSE(a1.equal(b1));  // the stream moves on between calls
  EXPECT_FALSE(a1.equal(a3));
  // bf16 inputs keep their dtype; evaluation mode and p = 0 are the identity.
  ScopedDropoutStream stream(5);
  EXPECT_EQ(internal::dropout(x.to(torch::kBFloat16), 0.1, true).scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(internal::dropout(x, 0.1, false).equal(x));
  EXPECT_TRUE(internal::dropout(x, 0.0, true).equal(x));
}

}  // namespace
}  // namespace recsys::seqrec::internal
