// internal::with_fp32_fallback: std::bad_alloc (std::bad_array_new_length included) and broken
// promises make the work run again, once, after a reset, with float32 products; other exceptions
// pass through at once. internal::clear_onednn_primitive_cache empties oneDNN's kernel cache;
// internal::reserve_onednn_primitive_cache raises its capacity.
#include "sequential_rec/internal/kernel_retry.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <future>
#include <new>
#include <stdexcept>
#include <vector>

#include "sequential_rec/internal/model_adapter.h"
#include "tests/seqrec/onednn_cache.h"

namespace recsys::seqrec::internal {
namespace {

TEST(Fp32FallbackTest, AKernelFailureRunsTheWorkAgainInFloat32) {
  for (bool broken_promise : {false, true}) {
    std::vector<bool> calls;
    int resets = 0;
    const int value = with_fp32_fallback(
        "test work",
        [&](bool fp32) {
          calls.push_back(fp32);
          if (!fp32 && broken_promise) throw std::future_error(std::future_errc::broken_promise);
          if (!fp32) throw std::bad_array_new_length();
          return 7;
        },
        [&] { ++resets; });
    EXPECT_EQ(value, 7);
    EXPECT_EQ(calls, (std::vector<bool>{false, true}));
    EXPECT_EQ(resets, 1);
  }
}

TEST(Fp32FallbackTest, WorkThatSucceedsRunsOnce) {
  std::vector<bool> calls;
  EXPECT_EQ(with_fp32_fallback(
                "test work",
                [&](bool fp32) {
                  calls.push_back(fp32);
                  return 3;
                },
                [] {}),
            3);
  EXPECT_EQ(calls, std::vector<bool>{false});
}

TEST(Fp32FallbackTest, AFailureOfTheFloat32RunAndOtherErrorsPassThrough) {
  int calls = 0, resets = 0;
  EXPECT_THROW(with_fp32_fallback(
                   "test work",
                   [&](bool) -> int {
                     ++calls;
                     throw std::bad_alloc();
                   },
                   [&] { ++resets; }),
               std::bad_alloc);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(resets, 1);
  calls = resets = 0;
  EXPECT_THROW(with_fp32_fallback(
                   "test work",
                   [&](bool) -> int {
                     ++calls;
                     throw std::runtime_error("not a kernel failure");
                   },
                   [&] { ++resets; }),
               std::runtime_error);
  EXPECT_THROW(with_fp32_fallback(
                   "test work",
                   [&](bool) -> int {
                     ++calls;
                     throw std::future_error(std::future_errc::no_state);
                   },
                   [&] { ++resets; }),
               std::future_error);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(resets, 0);
}

// The float32 run of a bf16 region: products come out in float32, and bf16 again afterwards.
TEST(Fp32FallbackTest, AutocastOffGuardGivesFloat32Products) {
  const auto a = torch::rand({4, 8}), b = torch::rand({8, 2});
  AutocastGuard bf16(true, torch::kCPU);
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
  {
    AutocastOffGuard off(true, torch::kCPU);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
  }
  {
    AutocastOffGuard not_off(false, torch::kCPU);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
}

TEST(ClearOneDnnPrimitiveCacheTest, EmptiesTheCacheAndKeepsItsCapacity) {
  const auto a = torch::rand({64, 128}).to(torch::kBFloat16);
  const auto b = torch::rand({128, 64}).to(torch::kBFloat16);
  const auto before = torch::mm(a, b);
  void* lib = dlopen("libdnnl.so.2", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) GTEST_SKIP() << "this LibTorch does not use a shared libdnnl.so.2";
  // oneDNN exports the cache size only as an internal C++ function (present in 2.x).
  auto size =
      reinterpret_cast<int (*)(int*)>(dlsym(lib, "_ZN4dnnl4impl24get_primitive_cache_sizeEPi"));
  auto capacity = reinterpret_cast<int (*)(int*)>(dlsym(lib, "dnnl_get_primitive_cache_capacity"));
  dlclose(lib);
  if (!size || !capacity) GTEST_SKIP() << "this oneDNN does not export its cache size";
  int entries = 0, cap_before = 0, cap_after = 0;
  ASSERT_EQ(size(&entries), 0);
  if (entries == 0) GTEST_SKIP() << "bfloat16 products do not go through oneDNN on this CPU";
  ASSERT_EQ(capacity(&cap_before), 0);
  EXPECT_TRUE(clear_onednn_primitive_cache());
  ASSERT_EQ(size(&entries), 0);
  EXPECT_EQ(entries, 0);
  ASSERT_EQ(capacity(&cap_after), 0);
  EXPECT_EQ(cap_after, cap_before);
  EXPECT_TRUE(torch::equal(torch::mm(a, b), before));  // kernels are created again
  ASSERT_EQ(size(&entries), 0);
  EXPECT_GT(entries, 0);
}

TEST(ReserveOneDnnPrimitiveCacheTest, RaisesTheCapacityUnlessTheUserSetIt) {
  const auto api = testing::onednn_capacity_api();
  if (!api.loaded) GTEST_SKIP() << "this LibTorch does not use a shared libdnnl.so.2";
  ASSERT_TRUE(api.get && api.set);
  if (testing::onednn_capacity_set_by_environment())
    GTEST_SKIP() << "the environment sets oneDNN's cache capacity";
  int original = 0, now = 0;
  ASSERT_EQ(api.get(&original), 0);
  ASSERT_EQ(api.set(100), 0);
  EXPECT_EQ(reserve_onednn_primitive_cache(300), 300);
  ASSERT_EQ(api.get(&now), 0);
  EXPECT_EQ(now, 300);
  EXPECT_EQ(reserve_onednn_primitive_cache(200), 300);  // never lowered
  ASSERT_EQ(api.get(&now), 0);
  EXPECT_EQ(now, 300);
  ::setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "300", 1);  // the user's choice stands
  EXPECT_EQ(reserve_onednn_primitive_cache(5000), 300);
  ::unsetenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY");
  ASSERT_EQ(api.get(&now), 0);
  EXPECT_EQ(now, 300);
  ASSERT_EQ(api.set(original), 0);
}

}  // namespace
}  // namespace recsys::seqrec::internal
