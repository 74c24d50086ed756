#include "server/http_server.h"

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "server/api.h"
#include "server/fd_limit.h"

namespace recsys::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

class Session;

class HttpServer::Impl {
 public:
  Impl(const ServerOptions& options, StoreProvider& store, std::shared_ptr<RecommendBackend> model)
      : options_(options),
        store_(store),
        api_(store, metrics_, options_, std::move(model)),
        acceptor_(net::make_strand(ioc_)),
        grace_timer_(ioc_) {}

  void start();
  void wait();
  void stop() {
    net::post(ioc_, [this] { do_stop(); });
  }

  void register_session(Session* s, std::weak_ptr<Session> w);
  void unregister_session(Session* s);

  const ServerOptions options_;
  StoreProvider& store_;
  Metrics metrics_;
  Api api_;
  std::atomic<bool> stopping_flag_{false};

  std::mutex sessions_mutex_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;

  // Declared after everything sessions touch: destroyed first, with any pending handlers.
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<net::signal_set> signals_;
  net::steady_timer grace_timer_;
  std::vector<std::thread> threads_;
  size_t max_connections_ = 0;  // --max-connections, or fewer when the open-file limit is lower
  uint16_t port_ = 0;
  bool started_ = false, joined_ = false;

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void do_stop();
};

// One connection: read a request, hand it to the Api, write the response, repeat while
// keep-alive. All of its handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server), work_(server.ioc_.get_executor()) {
    server_.metrics_.connection_opened();
  }
  ~Session() {
    server_.metrics_.connection_closed();
    server_.unregister_session(this);
  }

  void start() {
    server_.register_session(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Shutdown: idle connections close now, busy ones after their response.
  void drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->draining_ = true;
      if (self->state_ == State::kReading) self->stream_.cancel();
    });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing };

  void do_read() {
    if (server_.stopping_flag_ || draining_) return do_close();
    parser_.emplace();
    parser_->body_limit(server_.options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.max_header_bytes));
    state_ = State::kReading;
    stream_.expires_after(milliseconds(server_.options_.read_timeout_ms));
    // Header first, so that "Expect: 100-continue" clients (curl with bodies over 1 KiB) get
    // their go-ahead instead of waiting a second; the timeout covers header and body together.
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t n) {
    if (ec) return on_read(ec, n);
    const auto& req = parser_->get();
    const auto expect = req[http::field::expect];
    if (!parser_->is_done() && beast::iequals(expect, "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->do_close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec == http::error::end_of_stream || ec == net::error::operation_aborted) {
        return do_close();
      }
      using CE = Metrics::ConnectionError;
      if (ec == beast::error::timeout) {
        server_.metrics_.record_connection_error(CE::kTimeout);
        return do_close();  // the stream is already closed by the timeout
      }
      if (ec == http::error::body_limit) {
        server_.metrics_.record_connection_error(CE::kParse);
        return reply_and_close(413, "request body larger than " +
                                        std::to_string(server_.options_.max_body_bytes) + " bytes");
      }
      if (ec == http::error::header_limit) {
        server_.metrics_.record_connection_error(CE::kParse);
        return reply_and_close(431, "request header larger than " +
                                        std::to_string(server_.options_.max_header_bytes) +
                                        " bytes");
      }
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        server_.metrics_.record_connection_error(CE::kParse);
        if (ec == http::error::partial_message) return do_close();
        return reply_and_close(400, std::string("malformed HTTP request: ") + ec.message());
      }
      server_.metrics_.record_connection_error(CE::kIo);
      return do_close();
    }
    state_ = State::kHandling;
    server_.api_.handle(parser_->release(), [self = shared_from_this()](Response&& r) {
      auto res = std::make_shared<Response>(std::move(r));
      net::post(self->stream_.get_executor(), [self, res] { self->do_write(res); });
    });
  }

  // Answers a request that could not be read, then closes (the rest of it is unread).
  void reply_and_close(unsigned status, const std::string& message) {
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
    auto res = std::make_shared<Response>(Api::error_response(status, message, version, false));
    server_.metrics_.record_request(Route::kUnmatched, int(status), 0.0);
    do_write(res);
  }

  void do_write(std::shared_ptr<Response> res) {
    if (draining_ || server_.stopping_flag_) res->keep_alive(false);
    state_ = State::kWriting;
    stream_.expires_after(milliseconds(server_.options_.write_timeout_ms));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        self->on_write(ec, !res->keep_alive());
                      });
  }

  void on_write(beast::error_code ec, bool close) {
    if (ec) {
      if (ec == beast::error::timeout)
        server_.metrics_.record_connection_error(Metrics::ConnectionError::kTimeout);
      else
        server_.metrics_.record_connection_error(Metrics::ConnectionError::kIo);
      return do_close();
    }
    if (close) return linger();
    do_read();
  }

  // After a "Connection: close" response: send FIN, then read and discard what the client still
  // sends (briefly, boundedly) so that closing does not reset the connection before the client
  // has read the response.
  void linger() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return do_close();
    stream_.expires_after(milliseconds(std::min<int64_t>(1000, server_.options_.read_timeout_ms)));
    do_discard();
  }
  void do_discard() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > (4u << 20)) return self->do_close();
                              self->do_discard();
                            });
  }

  void do_close() {
    state_ = State::kClosing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl& server_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  State state_ = State::kReading;
  bool draining_ = false;
  std::array<char, 8192> scratch_;
  size_t discarded_ = 0;
};

void HttpServer::Impl::register_session(Session* s, std::weak_ptr<Session> w) {
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  sessions_.emplace(s, std::move(w));
}

void HttpServer::Impl::unregister_session(Session* s) {
  std::lock_guard<std::mutex> lock(sessions_mutex_);
  sessions_.erase(s);
  if (sessions_.empty() && stopping_flag_) {
    // Last connection gone during shutdown: no need to wait out the grace period.
    net::post(ioc_, [this] { grace_timer_.cancel(); });
  }
}

void HttpServer::Impl::start() {
  RECSYS_CHECK(!started_, "server already started");
  beast::error_code ec;
  const auto address = net::ip::make_address(options_.host, ec);
  RECSYS_CHECK(!ec, "--host '", options_.host, "' is not an IP address");
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    RECSYS_THROW(ErrorCode::kIOError, "cannot listen on ", options_.host, ":", options_.port, ": ",
                 ec.message());
  port_ = acceptor_.local_endpoint().port();
  max_connections_ = reserve_connection_descriptors(options_.max_connections);
  started_ = true;
  if (options_.handle_signals) {
    signals_.emplace(ioc_, SIGINT, SIGTERM);
    signals_->async_wait([this](beast::error_code ec, int sig) {
      if (ec) return;
      RECSYS_LOG(Info) << "signal " << sig << ": shutting down";
      do_stop();
    });
  }
  store_.on_refreshed = [this](uint64_t g) {
    metrics_.store_refreshed();
    metrics_.set_store_generation(g);
  };
  store_.on_refresh_failed = [this] { metrics_.store_refresh_failed(); };
  metrics_.set_store_generation(store_.current()->generation);
  store_.start_background(options_.refresh_interval_ms);
  do_accept();
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  RECSYS_LOG(Info) << "serving " << store_.current()->store->path() << " on http://"
                   << options_.host << ":" << port_ << " with " << options_.threads << " thread(s)";
}

void HttpServer::Impl::wait() {
  if (!started_ || joined_) return;
  for (auto& t : threads_) t.join();
  threads_.clear();
  joined_ = true;
  api_.drain();
  store_.stop_background();
  store_.on_refreshed = nullptr;
  store_.on_refresh_failed = nullptr;
  RECSYS_LOG(Info) << "server stopped";
}

void HttpServer::Impl::do_accept() {
  acceptor_.async_accept(net::make_strand(ioc_), beast::bind_front_handler(&Impl::on_accept, this));
}

void HttpServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopping_flag_) return;
  if (ec) {
    if (ec == net::error::operation_aborted) return;
    // E.g. out of file descriptors: back off briefly instead of spinning.
    RECSYS_LOG(Warning) << "accept failed: " << ec.message();
    auto timer = std::make_shared<net::steady_timer>(ioc_, milliseconds(50));
    timer->async_wait([this, timer](beast::error_code) {
      if (!stopping_flag_) net::post(acceptor_.get_executor(), [this] { do_accept(); });
    });
    return;
  }
  size_t active;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    active = sessions_.size();
  }
  if (active >= max_connections_) {
    metrics_.connection_rejected();
    static const std::string kBody =
        "{\"error\":{\"code\":503,\"message\":\"too many connections\",\"status\":"
        "\"unavailable\"}}";
    static const std::string kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nServer: recsys\r\nContent-Type: "
        "application/json\r\nConnection: close\r\nContent-Length: " +
        std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
    beast::error_code wec;
    net::write(socket, net::buffer(kBusy), wec);
    socket.shutdown(tcp::socket::shutdown_both, wec);
    socket.close(wec);
  } else {
    beast::error_code nec;
    socket.set_option(tcp::no_delay(true), nec);
    std::make_shared<Session>(std::move(socket), *this)->start();
  }
  do_accept();
}

void HttpServer::Impl::do_stop() {
  if (stopping_flag_.exchange(true)) return;
  beast::error_code ec;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec2;
    acceptor_.close(ec2);
  });
  if (signals_) signals_->cancel(ec);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    for (auto& [ptr, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  RECSYS_LOG(Info) << "shutting down: " << live.size() << " open connection(s)";
  for (auto& s : live) s->drain();
  if (live.empty()) return;
  grace_timer_.expires_after(milliseconds(options_.shutdown_grace_ms));
  grace_timer_.async_wait([this](beast::error_code ec) {
    if (ec) return;  // cancelled: every connection finished in time
    RECSYS_LOG(Warning) << "shutdown grace period over; closing remaining connections";
    api_.cancel_queued();  // the model would answer into closed connections
    ioc_.stop();
  });
}

HttpServer::HttpServer(const ServerOptions& options, StoreProvider& store,
                       std::shared_ptr<RecommendBackend> model) {
  options.validate();
  impl_ = std::make_unique<Impl>(options, store, std::move(model));
}

HttpServer::~HttpServer() {
  if (impl_->started_ && !impl_->joined_) {
    impl_->stop();
    impl_->wait();
  }
}

void HttpServer::start() { impl_->start(); }
void HttpServer::wait() { impl_->wait(); }
void HttpServer::stop() { impl_->stop(); }
uint16_t HttpServer::port() const { return impl_->port_; }
Metrics& HttpServer::metrics() { return impl_->metrics_; }

}  // namespace recsys::server
