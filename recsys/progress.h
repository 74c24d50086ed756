// Progress reporting for long steps: rate and ETA, printed through the logging facade at most once
// per interval. Thread-safe: several workers may call add() concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace recsys {

class Progress {
 public:
  // total == 0 means unknown (no ETA). unit names what is counted ("records", "items").
  Progress(std::string label, uint64_t total, std::string unit = "records",
           double interval_seconds = 2.0);
  // Adds n units; logs a line if the interval has passed. extra is appended to the line.
  void add(uint64_t n, const std::string& extra = "");
  // Logs the final line (count, elapsed, average rate).
  void finish(const std::string& extra = "");
  uint64_t count() const { return count_.load(); }
  double elapsed_seconds() const;
  double rate() const;

 private:
  void report(bool final, const std::string& extra);
  std::string label_;
  uint64_t total_;
  std::string unit_;
  double interval_;
  std::atomic<uint64_t> count_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::mutex mutex_;
};

std::string format_duration(double seconds);

}  // namespace recsys
