#include "recsys/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace recsys {
namespace {

TEST(ProgressTest, CountsConcurrentAddsExactly) {
  Progress p("test", 4000, "items", /*interval_seconds=*/1e9);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) p.add(1);
    });
  for (auto& w : workers) w.join();
  EXPECT_EQ(p.count(), 4000u);
  EXPECT_GT(p.rate(), 0.0);
}

TEST(ProgressTest, FormatsDurations) {
  EXPECT_EQ(format_duration(5.25), "5.2s");
  EXPECT_EQ(format_duration(125), "2m05s");
  EXPECT_EQ(format_duration(7260), "2h01m");
  EXPECT_EQ(format_duration(-3), "0.0s");
}

}  // namespace
}  // namespace recsys
