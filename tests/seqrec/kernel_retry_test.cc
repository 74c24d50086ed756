// internal::retry_on_bad_alloc: std::bad_alloc (std::bad_array_new_length included) and broken
// promises are retried after a reset, at most `attempts` calls in all; other exceptions pass
// through at once. internal::clear_onednn_primitive_cache empties oneDNN's kernel cache.
#include "sequential_rec/internal/kernel_retry.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <future>
#include <new>
#include <stdexcept>

namespace recsys::seqrec::internal {
namespace {

TEST(RetryOnBadAllocTest, RetriesAfterResetUntilTheWorkSucceeds) {
  int calls = 0, resets = 0;
  const int value = retry_on_bad_alloc(
      "test work", 3,
      [&] {
        ++calls;
        if (calls == 1) throw std::bad_array_new_length();
        if (calls == 2) throw std::bad_alloc();
        return 7;
      },
      [&] { ++resets; });
  EXPECT_EQ(value, 7);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(resets, 2);
}

// What a kernel whose creation threw leaves in oneDNN's cache for the next request.
TEST(RetryOnBadAllocTest, RetriesABrokenPromiseButNoOtherFutureError) {
  int calls = 0, resets = 0;
  const int value = retry_on_bad_alloc(
      "test work", 3,
      [&] {
        if (++calls == 1) throw std::future_error(std::future_errc::broken_promise);
        return 7;
      },
      [&] { ++resets; });
  EXPECT_EQ(value, 7);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(resets, 1);
  calls = 0;
  EXPECT_THROW(retry_on_bad_alloc(
                   "test work", 3,
                   [&]() -> int {
                     ++calls;
                     throw std::future_error(std::future_errc::no_state);
                   },
                   [&] {}),
               std::future_error);
  EXPECT_EQ(calls, 1);
}

TEST(RetryOnBadAllocTest, RethrowsAfterTheLastAttempt) {
  int calls = 0, resets = 0;
  EXPECT_THROW(retry_on_bad_alloc(
                   "test work", 3,
                   [&] {
                     ++calls;
                     throw std::bad_alloc();
                   },
                   [&] { ++resets; }),
               std::bad_alloc);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(resets, 2);
}

TEST(RetryOnBadAllocTest, OtherErrorsAreNotRetried) {
  int calls = 0, resets = 0;
  EXPECT_THROW(retry_on_bad_alloc(
                   "test work", 3,
                   [&]() -> int {
                     ++calls;
                     throw std::runtime_error("not a kernel failure");
                   },
                   [&] { ++resets; }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resets, 0);
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

}  // namespace
}  // namespace recsys::seqrec::internal
