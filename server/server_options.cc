#include "server/server_options.h"

#include <boost/program_options.hpp>

#include "recsys/error.h"

namespace recsys::server {

namespace po = boost::program_options;

void ServerOptions::validate() const {
  RECSYS_CHECK(!host.empty(), "--host must not be empty");
  RECSYS_CHECK(threads >= 1 && threads <= 256, "--threads must be in 1..256, got ", threads);
  RECSYS_CHECK(model_threads >= 1 && model_threads <= 64, "--model-threads must be in 1..64");
  RECSYS_CHECK(max_body_bytes >= 64, "--max-body-bytes must be >= 64");
  RECSYS_CHECK(max_header_bytes >= 256 && max_header_bytes <= UINT32_MAX,
               "--max-header-bytes must be in 256..4294967295, got ", max_header_bytes);
  RECSYS_CHECK(max_batch >= 1, "--max-batch must be >= 1");
  RECSYS_CHECK(max_k >= 1, "--max-k must be >= 1");
  RECSYS_CHECK(max_beam >= 1, "--max-beam must be >= 1");
  RECSYS_CHECK(uint64_t(max_beam) >= max_k, "--max-beam (", max_beam, ") must be >= --max-k (",
               max_k, "): a request's beam is at least its k");
  RECSYS_CHECK(max_history >= 1, "--max-history must be >= 1");
  RECSYS_CHECK(max_prefix_limit >= 1 && default_prefix_limit >= 1 &&
                   default_prefix_limit <= max_prefix_limit,
               "need 1 <= --default-prefix-limit <= --max-prefix-limit");
  RECSYS_CHECK(max_connections >= 1, "--max-connections must be >= 1");
  RECSYS_CHECK(max_pending_recommend >= 1, "--max-pending-recommend must be >= 1");
  // (bounded: the deadlines are counted in nanoseconds, which a year would overflow)
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  RECSYS_CHECK(read_timeout_ms > 0 && write_timeout_ms > 0 && read_timeout_ms <= kDay &&
                   write_timeout_ms <= kDay,
               "--read-timeout-ms and --write-timeout-ms must be in 1..", kDay, " (a day)");
  RECSYS_CHECK(shutdown_grace_ms >= 0 && shutdown_grace_ms <= kDay,
               "--shutdown-grace-ms must be in 0..", kDay, " (a day)");
  RECSYS_CHECK(refresh_interval_ms >= 0 && refresh_on_miss_ms >= 0,
               "refresh intervals must be >= 0");
}

void ServerOptions::add_options(po::options_description& desc) {
  desc.add_options()("host", po::value(&host)->default_value(host),
                     "address to bind (127.0.0.1 = loopback only; 0.0.0.0 = all interfaces)")(
      "port", po::value(&port)->default_value(port), "TCP port (0 = ephemeral)")(
      "threads", po::value(&threads)->default_value(threads), "I/O and lookup threads")(
      "model-threads", po::value(&model_threads)->default_value(model_threads),
      "threads running recommendations")("max-body-bytes",
                                         po::value(&max_body_bytes)->default_value(max_body_bytes),
                                         "largest request body (413 above)")(
      "max-header-bytes", po::value(&max_header_bytes)->default_value(max_header_bytes),
      "largest request header (431 above)")(
      "max-batch", po::value(&max_batch)->default_value(max_batch), "ids per items:batchGet")(
      "max-k", po::value(&max_k)->default_value(max_k), "largest k of recommend")(
      "max-beam", po::value(&max_beam)->default_value(max_beam), "largest beam of recommend")(
      "max-history", po::value(&max_history)->default_value(max_history),
      "history items a recommend request may send (a stored user's history is used whole)")(
      "max-prefix-limit", po::value(&max_prefix_limit)->default_value(max_prefix_limit),
      "largest page of a prefix scan")(
      "default-prefix-limit", po::value(&default_prefix_limit)->default_value(default_prefix_limit),
      "page size of a prefix scan that names no limit")(
      "max-pending-recommend",
      po::value(&max_pending_recommend)->default_value(max_pending_recommend),
      "queued recommend requests before new ones get 503")(
      "max-connections", po::value(&max_connections)->default_value(max_connections),
      "open connections before new ones get 503 (the open-file limit is raised to fit, up to its "
      "hard limit)")("read-timeout-ms", po::value(&read_timeout_ms)->default_value(read_timeout_ms),
                     "time to receive a whole request (also the keep-alive idle limit)")(
      "write-timeout-ms", po::value(&write_timeout_ms)->default_value(write_timeout_ms),
      "time to send a response")("shutdown-grace-ms",
                                 po::value(&shutdown_grace_ms)->default_value(shutdown_grace_ms),
                                 "how long in-flight requests may run after SIGTERM")(
      "refresh-interval-ms", po::value(&refresh_interval_ms)->default_value(refresh_interval_ms),
      "check the store for new maps this often (0 = never)")(
      "refresh-on-miss-ms", po::value(&refresh_on_miss_ms)->default_value(refresh_on_miss_ms),
      "re-open the store on an unknown map at most this often (0 = never)");
}

}  // namespace recsys::server
