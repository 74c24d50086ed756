// Options of the HTTP server: address, threads, request limits and timeouts, store refresh.
// Defaults are safe for a loopback service; every limit is enforced with a JSON error.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

namespace recsys::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  uint16_t port = 8080;            // 0 = pick an ephemeral port (tests)
  int threads = 2;                 // I/O + lookup worker threads
  int model_threads = 1;           // threads that run recommendations (off the I/O threads)

  // Limits.
  size_t max_body_bytes = 1 << 20;    // 413 above
  size_t max_header_bytes = 8 << 10;  // 431 above
  size_t max_batch = 1000;            // ids per items:batchGet
  size_t max_k = 100;                 // top-k of recommend
  int64_t max_beam = 100;             // beam width of recommend
  size_t max_history = 1000;          // history items per recommend request
  size_t max_prefix_limit = 1000;     // page size of prefix scans
  size_t default_prefix_limit = 20;   // page size when a prefix scan names none
  size_t max_connections = 4096;      // further connections get 503 and are closed; serve
                                      // raises the open-file limit to fit (or caps this)
  size_t max_pending_recommend = 64;  // queued recommend requests before 503

  // Timeouts (milliseconds).
  int64_t read_timeout_ms = 15000;    // to receive one whole request (incl. keep-alive idle)
  int64_t write_timeout_ms = 15000;   // to send one response
  int64_t shutdown_grace_ms = 10000;  // in-flight requests get this long after SIGTERM

  // Store refresh: the store is re-opened when its files changed (checked every interval), and
  // on a request for an unknown map (at most once per on_miss interval). 0 disables either.
  int64_t refresh_interval_ms = 2000;
  int64_t refresh_on_miss_ms = 250;

  bool handle_signals = false;  // stop cleanly on SIGINT/SIGTERM (the CLI sets it)

  // Throws recsys::Error(kInvalidArgument) naming the first bad option.
  void validate() const;
  // Binds every field to --option-name in `desc` (--port, --threads, --max-body-bytes, ...).
  void add_options(boost::program_options::options_description& desc);
};

}  // namespace recsys::server
