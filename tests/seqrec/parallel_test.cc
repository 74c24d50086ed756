// internal::run_shards must really run its shards at the same time (a build without OpenMP turns
// at::parallel_for into a serial loop), with torch operations inside a shard single-threaded.
#include "sequential_rec/internal/parallel.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
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

}  // namespace
}  // namespace recsys::seqrec::internal
