#include "server/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace recsys::server {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
const char* const kConnErrorNames[] = {"timeout", "parse", "io"};
}  // namespace

void Metrics::record_request(Route route, int status, double seconds) {
  const size_t r = static_cast<size_t>(route);
  status = std::clamp(status, kMinStatus, kMaxStatus);
  counts_[r][status - kMinStatus].fetch_add(1, kRelaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  buckets_[r][b].fetch_add(1, kRelaxed);
  latency_sum_ns_[r].fetch_add(static_cast<uint64_t>(std::llround(seconds * 1e9)), kRelaxed);
}

void Metrics::record_connection_error(ConnectionError kind) {
  conn_errors_[static_cast<size_t>(kind)].fetch_add(1, kRelaxed);
}

uint64_t Metrics::requests(Route route, int status) const {
  if (status < kMinStatus || status > kMaxStatus) return 0;
  return counts_[static_cast<size_t>(route)][status - kMinStatus].load(kRelaxed);
}

uint64_t Metrics::connection_errors(ConnectionError kind) const {
  return conn_errors_[static_cast<size_t>(kind)].load(kRelaxed);
}

std::string Metrics::render() const {
  std::ostringstream os;
  os << "# HELP recsys_http_requests_total HTTP requests by route and status code.\n"
        "# TYPE recsys_http_requests_total counter\n";
  uint64_t server_errors = 0, client_errors = 0;
  for (size_t r = 0; r < kNumRoutes; ++r) {
    for (size_t s = 0; s < kNumStatus; ++s) {
      const uint64_t n = counts_[r][s].load(kRelaxed);
      if (!n) continue;
      const int status = int(s) + kMinStatus;
      if (status >= 500)
        server_errors += n;
      else if (status >= 400)
        client_errors += n;
      os << "recsys_http_requests_total{route=\"" << route_name(Route(r)) << "\",status=\""
         << status << "\"} " << n << "\n";
    }
  }
  os << "# HELP recsys_http_errors_total HTTP responses with an error status, by class.\n"
        "# TYPE recsys_http_errors_total counter\n"
     << "recsys_http_errors_total{class=\"4xx\"} " << client_errors << "\n"
     << "recsys_http_errors_total{class=\"5xx\"} " << server_errors << "\n";
  os << "# HELP recsys_http_request_duration_seconds Time from a parsed request to its response.\n"
        "# TYPE recsys_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kNumRoutes; ++r) {
    uint64_t cumulative = 0;
    std::ostringstream lines;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += buckets_[r][b].load(kRelaxed);
      lines << "recsys_http_request_duration_seconds_bucket{route=\"" << route_name(Route(r))
            << "\",le=\"";
      if (b < kBuckets.size())
        lines << kBuckets[b];
      else
        lines << "+Inf";
      lines << "\"} " << cumulative << "\n";
    }
    if (!cumulative) continue;
    os << lines.str() << "recsys_http_request_duration_seconds_sum{route=\"" << route_name(Route(r))
       << "\"} " << double(latency_sum_ns_[r].load(kRelaxed)) * 1e-9 << "\n"
       << "recsys_http_request_duration_seconds_count{route=\"" << route_name(Route(r)) << "\"} "
       << cumulative << "\n";
  }
  os << "# HELP recsys_connection_errors_total Connections closed on an error, by kind.\n"
        "# TYPE recsys_connection_errors_total counter\n";
  for (size_t k = 0; k < conn_errors_.size(); ++k)
    os << "recsys_connection_errors_total{kind=\"" << kConnErrorNames[k] << "\"} "
       << conn_errors_[k].load(kRelaxed) << "\n";
  os << "# HELP recsys_connections_accepted_total Connections accepted.\n"
        "# TYPE recsys_connections_accepted_total counter\n"
     << "recsys_connections_accepted_total " << accepted_.load(kRelaxed) << "\n"
     << "# HELP recsys_connections_rejected_total Connections refused over max-connections.\n"
        "# TYPE recsys_connections_rejected_total counter\n"
     << "recsys_connections_rejected_total " << rejected_.load(kRelaxed) << "\n"
     << "# HELP recsys_connections_active Open connections.\n"
        "# TYPE recsys_connections_active gauge\n"
     << "recsys_connections_active " << active_.load(kRelaxed) << "\n"
     << "# HELP recsys_store_refreshes_total Store re-opens that found new data.\n"
        "# TYPE recsys_store_refreshes_total counter\n"
     << "recsys_store_refreshes_total " << refreshes_.load(kRelaxed) << "\n"
     << "# HELP recsys_store_refresh_failures_total Store re-opens that failed (old kept).\n"
        "# TYPE recsys_store_refresh_failures_total counter\n"
     << "recsys_store_refresh_failures_total " << refresh_failures_.load(kRelaxed) << "\n"
     << "# HELP recsys_store_generation Number of the store snapshot being served.\n"
        "# TYPE recsys_store_generation gauge\n"
     << "recsys_store_generation " << generation_.load(kRelaxed) << "\n";
  return os.str();
}

}  // namespace recsys::server
