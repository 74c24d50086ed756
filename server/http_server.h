// The HTTP/1.1 server (Boost.Beast over Asio): keep-alive connections served by N threads, one
// strand per connection, request size limits and read/write timeouts enforced per connection so
// a slow or hostile client only ever holds its own connection. stop() (or SIGINT/SIGTERM with
// ServerOptions::handle_signals) stops accepting, lets in-flight requests finish (up to
// shutdown_grace_ms) and closes idle connections.
#pragma once

#include <cstdint>
#include <memory>

#include "server/metrics.h"
#include "server/recommend_backend.h"
#include "server/server_options.h"
#include "server/store_provider.h"

namespace recsys::server {

class HttpServer {
 public:
  // Validates `options`; `model` may be null (recommend then answers 503).
  HttpServer(const ServerOptions& options, StoreProvider& store,
             std::shared_ptr<RecommendBackend> model = nullptr);
  ~HttpServer();  // stops and waits if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens, and starts the worker threads and the store's refresh thread. Throws
  // recsys::Error(kIOError) when the address cannot be bound. port() is valid afterwards.
  void start();
  // Blocks until the server has stopped and every thread has been joined.
  void wait();
  // Begins a clean shutdown; thread-safe, returns at once.
  void stop();

  uint16_t port() const;
  Metrics& metrics();

  class Impl;  // opaque (Beast stays out of this header)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys::server
