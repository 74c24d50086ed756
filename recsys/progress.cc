#include "recsys/progress.h"

#include <cstdio>

#include "recsys/logging.h"

namespace recsys {

namespace {
// Rates below 10/s keep two significant digits ("0.25 epochs/s"), larger ones are whole numbers.
std::string format_rate(double r) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), r >= 10 ? "%.0f" : "%.2g", r);
  return buf;
}
}  // namespace

std::string format_duration(double s) {
  char buf[32];
  if (s < 0) s = 0;
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", int(s) / 60, int(s) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  }
  return buf;
}

Progress::Progress(std::string label, uint64_t total, std::string unit, double interval_seconds)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      interval_(interval_seconds),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::rate() const {
  const double e = elapsed_seconds();
  return e > 0 ? count_.load() / e : 0.0;
}

void Progress::add(uint64_t n, const std::string& extra) {
  count_ += n;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  report(false, extra);
}

void Progress::finish(const std::string& extra) {
  std::lock_guard<std::mutex> lock(mutex_);
  report(true, extra);
}

void Progress::report(bool final, const std::string& extra) {
  const uint64_t c = count_.load();
  const double e = elapsed_seconds();
  const double r = e > 0 ? c / e : 0.0;
  char buf[256];
  if (final) {
    std::snprintf(buf, sizeof(buf), "%s: done %llu %s in %s (%s %s/s)", label_.c_str(),
                  (unsigned long long)c, unit_.c_str(), format_duration(e).c_str(),
                  format_rate(r).c_str(), unit_.c_str());
  } else if (total_ > 0) {
    const double eta = r > 0 ? (double(total_) - double(c)) / r : 0.0;
    std::snprintf(buf, sizeof(buf), "%s: %llu/%llu %s (%.1f%%) %s %s/s ETA %s", label_.c_str(),
                  (unsigned long long)c, (unsigned long long)total_, unit_.c_str(),
                  100.0 * double(c) / double(total_), format_rate(r).c_str(), unit_.c_str(),
                  format_duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof(buf), "%s: %llu %s %s %s/s", label_.c_str(), (unsigned long long)c,
                  unit_.c_str(), format_rate(r).c_str(), unit_.c_str());
  }
  if (extra.empty()) {
    RECSYS_LOG(Info) << buf;
  } else {
    RECSYS_LOG(Info) << buf << " " << extra;
  }
}

}  // namespace recsys
