// internal::retry_on_bad_alloc: std::bad_alloc (std::bad_array_new_length included) is retried
// after a reset, at most `attempts` calls in all; other exceptions pass through at once.
#include "sequential_rec/internal/kernel_retry.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace recsys::seqrec::internal
