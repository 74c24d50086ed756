// Server metrics in the Prometheus text exposition format: request counts by route and status,
// a latency histogram per route, connection and error counters. Lock-free (relaxed atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "server/router.h"

namespace recsys::server {

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implicit.
  static constexpr std::array<double, 14> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};

  enum class ConnectionError { kTimeout, kParse, kIo, kNumKinds };

  void record_request(Route route, int status, double seconds);
  void record_connection_error(ConnectionError kind);
  void connection_opened() { ++accepted_, ++active_; }
  void connection_closed() { --active_; }
  void connection_rejected() { ++rejected_; }
  void store_refreshed() { ++refreshes_; }
  void store_refresh_failed() { ++refresh_failures_; }
  void set_store_generation(uint64_t g) { generation_ = g; }

  uint64_t requests(Route route, int status) const;
  uint64_t connection_errors(ConnectionError kind) const;

  // The whole text exposition (content type text/plain; version=0.0.4).
  std::string render() const;

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  static constexpr size_t kNumRoutes = static_cast<size_t>(Route::kNumRoutes);
  static constexpr size_t kNumStatus = kMaxStatus - kMinStatus + 1;

  std::array<std::array<std::atomic<uint64_t>, kNumStatus>, kNumRoutes> counts_{};
  std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kNumRoutes> buckets_{};
  std::array<std::atomic<uint64_t>, kNumRoutes> latency_sum_ns_{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ConnectionError::kNumKinds)> conn_errors_{};
  std::atomic<uint64_t> accepted_{0}, rejected_{0}, refreshes_{0}, refresh_failures_{0};
  std::atomic<int64_t> active_{0};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace recsys::server
