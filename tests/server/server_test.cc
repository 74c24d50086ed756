// End-to-end tests of the HTTP server: a tiny store in a temp dir, the server on an ephemeral
// loopback port, a Beast client (and raw sockets for malformed or slow requests).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "recsys/error.h"
#include "recsys/logging.h"
#include "server/fd_limit.h"
#include "server/http_server.h"
#include "storage/store.h"

namespace recsys::server {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

constexpr size_t kNumItems = 40;

// Deterministic fake: recommends the items after the last history item, scores descending;
// optionally sleeps to simulate a slow model.
class FakeModel : public RecommendBackend {
 public:
  explicit FakeModel(int sleep_ms = 0) : sleep_ms_(sleep_ms) {}
  std::string name() const override { return "fake"; }
  std::vector<Recommendation> recommend(const RecommendRequest& r) override {
    ++calls;
    last_user = r.user ? int64_t(*r.user) : -1;
    last_beam = r.beam;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_history_ = r.history;
    }
    if (sleep_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    std::vector<Recommendation> out;
    for (size_t i = 0; i < r.k; ++i)
      out.push_back({ItemIndex((r.history.back() + 1 + i) % kNumItems), -float(i)});
    return out;
  }
  std::vector<ItemIndex> last_history() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_history_;
  }
  std::atomic<int> calls{0};
  std::atomic<int64_t> last_user{-2};
  std::atomic<int64_t> last_beam{-1};

 private:
  int sleep_ms_;
  mutable std::mutex mutex_;  // the model thread writes, the test thread reads
  std::vector<ItemIndex> last_history_;
};

struct Reply {
  unsigned status = 0;
  std::string body;
  json j;
  http::response<http::string_body> res;
};

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  Reply request(http::verb method, const std::string& target, const std::string& body = "",
                const std::string& content_type = "application/json") {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty() || method == http::verb::post) {
      req.set(http::field::content_type, content_type);
      req.body() = body;
      req.prepare_payload();
    }
    http::write(socket_, req);
    Reply r;
    http::read(socket_, buffer_, r.res);
    r.status = r.res.result_int();
    r.body = r.res.body();
    r.j = json::parse(r.body, nullptr, false);
    return r;
  }
  Reply get(const std::string& target) { return request(http::verb::get, target); }
  Reply post(const std::string& target, const json& body) {
    return request(http::verb::post, target, body.dump());
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Sends raw bytes on a fresh connection and returns everything the server sends back until it
// closes (or `timeout_ms`).
std::string raw_exchange(uint16_t port, const std::string& bytes, int timeout_ms = 3000) {
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  beast::error_code ec;
  net::write(s, net::buffer(bytes), ec);
  std::string out;
  char buf[4096];
  while (true) {
    const size_t n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

unsigned status_of(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) return 0;
  return unsigned(std::stoi(raw.substr(9, 3)));
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { set_log_level(LogLevel::kWarning); }

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("recsys_server_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "store").string();
    Dataset d;
    d.name = "tiny";
    for (size_t i = 0; i < kNumItems; ++i) {
      ItemRecord it;
      it.external_id = "A" + std::to_string(i);
      it.title = "Item " + std::to_string(i);
      it.brand = "Brand";
      it.categories = {{"Beauty", "Makeup"}};
      d.items.push_back(it);
    }
    d.items[7].external_id = "A/7 x";  // needs percent-encoding in a path
    d.users.push_back({"u1", {0, 1, 2}, {10, 20, 30}});
    d.users.push_back({"u2", {3, 4, 5}, {5, 6, 7}});
    d.finalize_stats();
    storage::Store::write_dataset(path_, d, "{}", false);
    auto rw = storage::Store::open(path_, storage::Store::Mode::kReadWrite);
    rw->write_id_map(make_map("rq", 3));
    rw->write_id_map(make_map("hk", 2));
  }

  void TearDown() override {
    server_.reset();
    provider_.reset();
    fs::remove_all(dir_);
  }

  // IDs: (i / 8, (i / 2) % 4, i % 2) for "rq"; a 2-token variant for "hk".
  static IdMap make_map(const std::string& name, size_t length) {
    IdMap m;
    m.name = name;
    m.method = "test";
    m.vocab = length == 3 ? std::vector<uint32_t>{8, 4, 2} : std::vector<uint32_t>{64, 2};
    for (size_t i = 0; i < kNumItems; ++i) {
      if (length == 3)
        m.ids.push_back({Token(i / 8), Token((i / 2) % 4), Token(i % 2)});
      else
        m.ids.push_back({Token(i / 2), Token(i % 2)});
    }
    return m;
  }

  void start(ServerOptions options = {}, std::shared_ptr<RecommendBackend> model = nullptr) {
    options.port = 0;
    options.threads = 2;
    if (options.refresh_interval_ms == ServerOptions().refresh_interval_ms)
      options.refresh_interval_ms = 0;  // tests drive refreshes through on-miss
    options_ = options;
    provider_ = std::make_unique<StoreProvider>(path_);
    provider_->check_store = check_store_;
    server_ = std::make_unique<HttpServer>(options, *provider_, std::move(model));
    server_->start();
    port_ = server_->port();
  }

  fs::path dir_;
  std::string path_;
  ServerOptions options_;
  std::function<void(const storage::Store&)> check_store_;  // StoreProvider::check_store
  std::unique_ptr<StoreProvider> provider_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

void expect_error(const Reply& r, unsigned status) {
  EXPECT_EQ(r.status, status) << r.body;
  ASSERT_TRUE(r.j.is_object()) << r.body;
  EXPECT_EQ(r.j["error"]["code"], status);
  EXPECT_FALSE(r.j["error"]["message"].get<std::string>().empty());
}

TEST_F(ServerTest, HealthzReportsStoreAndMaps) {
  start();
  Client c(port_);
  const Reply r = c.get("/healthz");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.res[http::field::content_type], "application/json");
  EXPECT_EQ(r.j["status"], "ok");
  EXPECT_EQ(r.j["items"], kNumItems);
  EXPECT_EQ(r.j["maps"], json({"hk", "rq"}));
  EXPECT_TRUE(r.j["model"].is_null());
}

TEST_F(ServerTest, ItemLookupReturnsRecordAndEverySemanticId) {
  start();
  Client c(port_);
  const Reply r = c.get("/v1/items/A13");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.j["index"], 13);
  EXPECT_EQ(r.j["external_id"], "A13");
  EXPECT_EQ(r.j["title"], "Item 13");
  EXPECT_EQ(r.j["categories"], json::array({json::array({"Beauty", "Makeup"})}));
  EXPECT_EQ(r.j["semantic_ids"]["rq"], "1-2-1");
  EXPECT_EQ(r.j["semantic_ids"]["hk"], "6-1");
  // Same connection (keep-alive), percent-encoded id with '/' and ' '.
  const Reply enc = c.get("/v1/items/A%2F7%20x");
  ASSERT_EQ(enc.status, 200u) << enc.body;
  EXPECT_EQ(enc.j["index"], 7);
  expect_error(c.get("/v1/items/nope"), 404);
  expect_error(c.get("/v1/items/%zz"), 400);
}

TEST_F(ServerTest, FullIdLookup) {
  start();
  Client c(port_);
  const Reply r = c.get("/v1/maps/rq/ids/1-2-1");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.j["external_id"], "A13");
  EXPECT_EQ(r.j["semantic_id"], "1-2-1");
  EXPECT_EQ(r.j["map"], "rq");
  expect_error(c.get("/v1/maps/rq/ids/7-3-1"), 404);  // valid shape, no item
  expect_error(c.get("/v1/maps/nomap/ids/1-2-1"), 404);
  expect_error(c.get("/v1/maps/rq/ids/1-2"), 400);    // wrong length
  expect_error(c.get("/v1/maps/rq/ids/1-x-2"), 400);  // malformed
  expect_error(c.get("/v1/maps/rq/ids/1-2-70000"), 400);
  const Reply info = c.get("/v1/maps/hk");
  ASSERT_EQ(info.status, 200u);
  EXPECT_EQ(info.j["id_length"], 2);
  EXPECT_EQ(info.j["num_items"], kNumItems);
  const Reply maps = c.get("/v1/maps");
  ASSERT_EQ(maps.status, 200u);
  EXPECT_EQ(maps.j["maps"].size(), 2u);
}

TEST_F(ServerTest, PrefixScanPagesWithCursor) {
  start();
  Client c(port_);
  // Prefix 2 holds items 16..23 (8 items): pages of 3.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  while (true) {
    const Reply r = c.get("/v1/maps/rq/prefix/2?limit=3" +
                          (cursor.empty() ? std::string() : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200u) << r.body;
    ++pages;
    for (const auto& it : r.j["items"]) seen.push_back(it["external_id"]);
    if (r.j["next_cursor"].is_null()) break;
    cursor = r.j["next_cursor"];
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected;
  for (int i = 16; i < 24; ++i) expected.push_back("A" + std::to_string(i));
  EXPECT_EQ(seen, expected);
  const Reply all = c.get("/v1/maps/rq/prefix/?limit=1000");
  ASSERT_EQ(all.status, 200u);
  EXPECT_EQ(all.j["items"].size(), kNumItems);
  const Reply deeper = c.get("/v1/maps/rq/prefix/2-3");
  ASSERT_EQ(deeper.status, 200u);
  EXPECT_EQ(deeper.j["items"].size(), 2u);
  EXPECT_EQ(c.get("/v1/maps/rq/prefix/9").j["items"].size(), 0u);
  expect_error(c.get("/v1/maps/rq/prefix/1?limit=0"), 400);
  expect_error(c.get("/v1/maps/rq/prefix/1?limit=abc"), 400);
  expect_error(c.get("/v1/maps/rq/prefix/1?limit=1001"), 400);
  expect_error(c.get("/v1/maps/rq/prefix/1?cursor=x-"), 400);
  expect_error(c.get("/v1/maps/rq/prefix/1-2-3-4"), 400);
  expect_error(c.get("/v1/maps/zz/prefix/1"), 404);
}

TEST_F(ServerTest, BatchGetUsesOneCallAndKeepsOrder) {
  start();
  Client c(port_);
  const Reply r = c.post("/v1/items:batchGet", {{"ids", {"A3", "missing", "A1"}}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(r.j["items"].size(), 3u);
  EXPECT_EQ(r.j["items"][0]["external_id"], "A3");
  EXPECT_TRUE(r.j["items"][1].is_null());
  EXPECT_EQ(r.j["items"][2]["semantic_ids"]["rq"], "0-0-1");
  EXPECT_EQ(r.j["found"], 2);
  EXPECT_EQ(r.j["missing"], json({"missing"}));
  const Reply no_ids = c.post("/v1/items:batchGet", {{"ids", {"A3"}}, {"semantic_ids", false}});
  EXPECT_FALSE(no_ids.j["items"][0].contains("semantic_ids"));
  // Errors: wrong content type, malformed JSON, wrong shapes, too many ids, too deep.
  expect_error(c.request(http::verb::post, "/v1/items:batchGet", "{\"ids\":[]}", "text/plain"),
               415);
  expect_error(c.request(http::verb::post, "/v1/items:batchGet", "{\"ids\":[", "application/json"),
               400);
  expect_error(c.post("/v1/items:batchGet", json::array()), 400);
  expect_error(c.post("/v1/items:batchGet", {{"ids", "A1"}}), 400);
  expect_error(c.post("/v1/items:batchGet", {{"ids", {1, 2}}}), 400);
  expect_error(c.post("/v1/items:batchGet", {{"nothing", 1}}), 400);
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back("A1");
  expect_error(c.post("/v1/items:batchGet", {{"ids", many}}), 400);
  expect_error(c.request(http::verb::post, "/v1/items:batchGet",
                         std::string(100, '[') + std::string(100, ']')),
               400);
  // The connection still works after all of those.
  EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST_F(ServerTest, WrongMethodAndUnknownPath) {
  start();
  Client c(port_);
  const Reply r = c.request(http::verb::delete_, "/v1/items/A1");
  expect_error(r, 405);
  EXPECT_EQ(r.res[http::field::allow], "GET, HEAD");
  expect_error(c.get("/v1/items:batchGet"), 405);
  expect_error(c.get("/v1/nothing"), 404);
  expect_error(c.get("/"), 404);
}

// A HEAD response carries the GET response's headers and no body, so the next response on the
// connection is read from its first byte.
TEST_F(ServerTest, HeadAnswersWithoutABody) {
  start();
  const std::string alone =
      raw_exchange(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const size_t alone_body = alone.size() - (alone.find("\r\n\r\n") + 4);
  for (const std::string head : {"/healthz", "/v1/items/A1", "/v1/items/nope", "/v1/recommend"}) {
    SCOPED_TRACE(head);
    const std::string reply =
        raw_exchange(port_, "HEAD " + head + " HTTP/1.1\r\nHost: x\r\n\r\n" +
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const size_t end = reply.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos) << reply;
    const std::string header = reply.substr(0, end);
    const unsigned want = head == "/healthz" || head == "/v1/items/A1" ? 200u
                          : head == "/v1/items/nope"                   ? 404u
                                                                       : 405u;
    EXPECT_EQ(status_of(reply), want) << reply;
    // Content-Length: the size of the body a GET would have had.
    const size_t cl = header.find("Content-Length: ");
    ASSERT_NE(cl, std::string::npos) << header;
    EXPECT_GT(std::stoul(header.substr(cl + 16)), 0u);
    const std::string next = reply.substr(end + 4);
    EXPECT_EQ(status_of(next), 200u) << reply;
    EXPECT_EQ(next.size() - (next.find("\r\n\r\n") + 4), alone_body) << reply;
  }
}

TEST_F(ServerTest, BodyAndHeaderLimitsAnswer413And431) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  o.max_header_bytes = 1024;
  start(o);
  const std::string big(4096, 'x');
  std::string raw =
      "POST /v1/items:batchGet HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(big.size()) + "\r\n\r\n" + big;
  std::string reply = raw_exchange(port_, raw);
  EXPECT_EQ(status_of(reply), 413u) << reply;
  EXPECT_NE(reply.find("payload_too_large"), std::string::npos);
  raw = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n";
  reply = raw_exchange(port_, raw);
  EXPECT_EQ(status_of(reply), 431u) << reply;
  // Chunked bodies count too.
  raw =
      "POST /v1/items:batchGet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n1000\r\n" +
      big + "\r\n0\r\n\r\n";
  EXPECT_EQ(status_of(raw_exchange(port_, raw)), 413u);
}

TEST_F(ServerTest, ExpectContinueGetsItsGoAhead) {
  start();
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  const std::string body = "{\"ids\":[\"A1\"]}";
  net::write(s, net::buffer("POST /v1/items:batchGet HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            "application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n"));
  std::string interim;
  const size_t n = net::read_until(s, net::dynamic_buffer(interim), "\r\n\r\n");
  EXPECT_EQ(interim.substr(0, n), "HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(interim.size(), n);  // nothing else before the body is sent
  net::write(s, net::buffer(body));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(json::parse(res.body())["found"], 1);
}

TEST_F(ServerTest, MalformedHttpGets400AndServerSurvives) {
  start();
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/9.9\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST /v1/recommend HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        std::string("\x00\x01\x02\xff\r\n\r\n", 8)}) {
    const std::string reply = raw_exchange(port_, raw);
    EXPECT_EQ(status_of(reply), 400u) << raw << " -> " << reply;
  }
  Client c(port_);
  EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST_F(ServerTest, RecommendWithoutModelIs503) {
  start();
  Client c(port_);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 5}}), 503);
}

TEST_F(ServerTest, RecommendReturnsTopKWithTitles) {
  auto model = std::make_shared<FakeModel>();
  start({}, model);
  Client c(port_);
  const Reply r = c.post("/v1/recommend", {{"history", {"A1", "A2"}}, {"k", 3}});
  ASSERT_EQ(r.status, 200u) << r.body;
  ASSERT_EQ(r.j["items"].size(), 3u);
  EXPECT_EQ(r.j["items"][0]["external_id"], "A3");
  EXPECT_EQ(r.j["items"][0]["title"], "Item 3");
  EXPECT_EQ(r.j["items"][0]["rank"], 1);
  EXPECT_EQ(r.j["items"][2]["index"], 5);
  EXPECT_EQ(r.j["model"], "fake");
  EXPECT_EQ(model->last_user, -1);
  // By user: the stored history and the user's index.
  const Reply u = c.post("/v1/recommend", {{"user", "u2"}, {"k", 2}, {"beam", 4}});
  ASSERT_EQ(u.status, 200u) << u.body;
  EXPECT_EQ(model->last_user, 1);
  EXPECT_EQ(model->last_history(), (std::vector<ItemIndex>{3, 4, 5}));
  EXPECT_EQ(u.j["items"][0]["index"], 6);
  expect_error(c.post("/v1/recommend", {{"history", {"A1", "nope"}}}), 404);
  expect_error(c.post("/v1/recommend", {{"user", "nobody"}}), 404);
  expect_error(c.post("/v1/recommend", {{"history", json::array()}}), 400);
  expect_error(c.post("/v1/recommend", {{"k", 3}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 0}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 101}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", -1}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", "5"}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 10}, {"beam", 5}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"beam", 1000}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"exclude_history", 1}}), 400);
  EXPECT_EQ(model->calls, 2);
}

// A stored user's history reaches the model whole, whatever --max-history (which bounds what a
// request sends), so exclude_history covers all of it; the default k and beam stay within
// --max-k and --max-beam.
TEST_F(ServerTest, RecommendKeepsStoredHistoriesAndItsLimits) {
  auto model = std::make_shared<FakeModel>();
  ServerOptions o;
  o.max_history = 2;
  o.max_k = 5;
  o.max_beam = 8;
  start(o, model);
  Client c(port_);
  const Reply r = c.post("/v1/recommend", {{"user", "u1"}, {"exclude_history", true}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(model->last_history(), (std::vector<ItemIndex>{0, 1, 2}));
  EXPECT_EQ(r.j["items"].size(), 5u);  // k: 10 by default, at most --max-k
  EXPECT_EQ(model->last_beam, 8);      // beam: 20 by default, at most --max-beam
  expect_error(c.post("/v1/recommend", {{"history", {"A1", "A2", "A3"}}}), 400);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}, {"beam", 9}}), 400);
}

// Limits that cannot work are refused at start: a beam below k, a header limit beyond 32 bits,
// deadlines that would overflow.
TEST(ServerOptionsTest, RefusesLimitsThatCannotWork) {
  ServerOptions ok;
  ok.validate();
  ServerOptions o = ok;
  o.max_beam = 10;
  o.max_k = 11;
  EXPECT_THROW(o.validate(), Error);
  o = ok;
  o.max_header_bytes = size_t(1) << 32;
  EXPECT_THROW(o.validate(), Error);
  o = ok;
  o.read_timeout_ms = INT64_MAX;
  EXPECT_THROW(o.validate(), Error);
  o = ok;
  o.shutdown_grace_ms = INT64_MAX;
  EXPECT_THROW(o.validate(), Error);
}

TEST_F(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  start();
  Client c(port_);
  c.get("/v1/items/A1");
  c.get("/v1/items/A2");
  c.get("/v1/items/nope");
  const Reply r = c.get("/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.res[http::field::content_type].find("text/plain"), beast::string_view::npos);
  EXPECT_NE(r.body.find("recsys_http_requests_total{route=\"items_get\",status=\"200\"} 2"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("recsys_http_requests_total{route=\"items_get\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("recsys_http_request_duration_seconds_count{route=\"items_get\"} 3"),
            std::string::npos);
  EXPECT_NE(r.body.find("recsys_connections_active 1"), std::string::npos);
}

TEST_F(ServerTest, ConcurrentClientsAllGetCorrectAnswers) {
  start();
  constexpr int kClients = 8, kRequests = 150;
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      Client c(port_);
      for (int i = 0; i < kRequests; ++i) {
        const size_t item = size_t(t * 31 + i * 7) % kNumItems;
        const std::string id = item == 7 ? "A%2F7%20x" : "A" + std::to_string(item);
        const Reply r = (i % 3 == 0) ? c.post("/v1/items:batchGet", {{"ids", {"A0", "A5"}}})
                                     : c.get("/v1/items/" + id);
        const bool good =
            r.status == 200 && (i % 3 == 0 ? r.j["found"] == 2 : r.j["index"] == item);
        ++(good ? ok : wrong);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, kClients * kRequests);
  EXPECT_EQ(wrong, 0);
}

TEST_F(ServerTest, SlowClientDoesNotBlockOthersAndTimesOut) {
  ServerOptions o;
  o.read_timeout_ms = 1500;
  start(o);
  net::io_context ioc;
  tcp::socket slow(ioc);
  slow.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  net::write(slow, net::buffer(std::string("GET /healthz HTTP/1.1\r\nHo")));  // then stalls
  const auto t0 = std::chrono::steady_clock::now();
  Client c(port_);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(c.get("/v1/items/A1").status, 200u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  // The stalled connection is closed by the server after the read timeout.
  char buf[64];
  beast::error_code ec;
  slow.read_some(net::buffer(buf), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
  // The server counts the timeout right after closing; allow it a moment.
  for (int i = 0; i < 100; ++i) {
    if (server_->metrics().connection_errors(Metrics::ConnectionError::kTimeout) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(server_->metrics().connection_errors(Metrics::ConnectionError::kTimeout), 1u);
}

TEST_F(ServerTest, MapWrittenWhileServingBecomesVisibleAtomically) {
  start();
  Client c(port_);
  expect_error(c.get("/v1/maps/fresh/ids/0-1"), 404);
  // Readers hammer the new map's full listing while it is written: each answer is either 404
  // (not there yet) or the complete map, never a part of it.
  std::atomic<bool> done{false};
  std::atomic<int> partial{0}, complete{0};
  std::thread reader([&] {
    Client rc(port_);
    while (!done) {
      const Reply r = rc.get("/v1/maps/fresh/prefix/?limit=1000");
      if (r.status == 200) {
        if (r.j["items"].size() == kNumItems)
          ++complete;
        else
          ++partial;
      } else if (r.status != 404) {
        ++partial;
      }
    }
  });
  {
    auto rw = storage::Store::open(path_, storage::Store::Mode::kReadWrite);
    IdMap m = make_map("fresh", 2);
    rw->write_id_map(m);
  }
  // On-miss refresh is rate-limited to once per 250 ms; poll for a bounded time.
  Reply r;
  for (int i = 0; i < 100; ++i) {
    r = c.get("/v1/maps/fresh/ids/0-1");
    if (r.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.j["external_id"], "A1");
  done = true;
  reader.join();
  EXPECT_EQ(partial, 0);
  // Item lookups now list the new map too.
  EXPECT_EQ(c.get("/v1/items/A3").j["semantic_ids"]["fresh"], "1-1");
  EXPECT_GE(c.get("/healthz").j["generation"], 2);
}

TEST_F(ServerTest, PeriodicRefreshPicksUpNewMapWithoutAMiss) {
  ServerOptions o;
  o.refresh_interval_ms = 50;
  o.refresh_on_miss_ms = 0;
  start(o);
  {
    auto rw = storage::Store::open(path_, storage::Store::Mode::kReadWrite);
    rw->write_id_map(make_map("later", 3));
  }
  Client c(port_);
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    seen = c.get("/healthz").j["maps"].size() == 3;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(seen);
  // Once the writer has closed (its close flushes, which changes files once more), the snapshot
  // stays the same: unchanged files are not re-opened. The close may take a while to show on a
  // loaded machine, so wait (bounded) for two equal readings 300 ms apart first; a server that
  // re-opened unchanged files every 50 ms would never give them.
  auto g = c.get("/healthz").j["generation"];
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto now = c.get("/healthz").j["generation"];
    if (now == g) break;
    g = now;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(c.get("/healthz").j["generation"], g);
}

// A store re-written under the server that its check refuses (serve: other data than the model
// was loaded for) is not swapped in, and the same files are not tried again; one the check
// accepts is.
TEST_F(ServerTest, RefusedStoreIsNotSwappedIn) {
  ServerOptions o;
  o.refresh_interval_ms = 50;
  o.refresh_on_miss_ms = 0;
  std::atomic<int> checks{0};
  check_store_ = [&checks](const storage::Store& next) {
    ++checks;
    RECSYS_CHECK(next.stats().num_items == kNumItems, "other data");
  };
  start(o);
  auto dataset = [](size_t items) {
    Dataset d;
    d.name = "other";
    for (size_t i = 0; i < items; ++i) {
      ItemRecord it;
      it.external_id = "B" + std::to_string(i);
      d.items.push_back(it);
    }
    d.users.push_back({"u1", {0, 1, 2}, {10, 20, 30}});
    d.finalize_stats();
    return d;
  };
  // Waits (bounded) until the number of checks stays put for 300 ms.
  auto settled_checks = [&checks] {
    int seen = checks;
    for (int i = 0; i < 20; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      if (checks == seen && seen > 0) break;
      seen = checks;
    }
    return seen;
  };
  storage::Store::write_dataset(path_, dataset(3), "{}", true);
  const int refused = settled_checks();
  EXPECT_GE(refused, 1);
  Client c(port_);
  const Reply h = c.get("/healthz");
  EXPECT_EQ(h.j["generation"], 1);
  EXPECT_EQ(h.j["items"], kNumItems);
  EXPECT_EQ(c.get("/v1/items/A3").status, 200u);
  const std::string metrics = c.get("/metrics").body;
  const std::string counter = "\nrecsys_store_refresh_failures_total ";
  const size_t at = metrics.find(counter);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stoi(metrics.substr(at + counter.size())), refused);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(checks, refused);  // unchanged files: not re-opened, not re-checked
  storage::Store::write_dataset(path_, dataset(kNumItems), "{}", true);
  bool swapped = false;
  for (int i = 0; i < 100 && !swapped; ++i) {
    swapped = c.get("/v1/items/B3").status == 200;
    if (!swapped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(swapped);
}

// A request for an unknown map never waits for a refresh already running (here one held up by a
// slow store check): with both I/O threads on such requests, everything still answers at once.
TEST_F(ServerTest, UnknownMapDoesNotWaitForARunningRefresh) {
  ServerOptions o;
  o.refresh_interval_ms = 50;
  std::atomic<int> checks{0};
  check_store_ = [&checks](const storage::Store&) {
    ++checks;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  };
  start(o);
  {
    auto rw = storage::Store::open(path_, storage::Store::Mode::kReadWrite);
    rw->write_id_map(make_map("later", 3));
  }
  for (int i = 0; i < 200 && checks == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(checks, 1);  // the background refresh is in its check, holding the refresh
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> misses;
  std::atomic<int> not_found{0};
  for (int i = 0; i < 2; ++i) {
    misses.emplace_back([&] {
      Client c(port_);
      not_found += c.get("/v1/maps/nope/ids/0-1-0").status == 404;
    });
  }
  for (auto& t : misses) t.join();
  Client c(port_);
  EXPECT_EQ(c.get("/healthz").status, 200u);
  EXPECT_EQ(not_found, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestsFinish) {
  ServerOptions o;
  o.handle_signals = true;
  auto model = std::make_shared<FakeModel>(/*sleep_ms=*/400);
  start(o, model);
  Client idle(port_);  // an idle keep-alive connection must not hold the shutdown up
  ASSERT_EQ(idle.get("/healthz").status, 200u);
  Reply r;
  std::thread in_flight([&] {
    Client c(port_);
    r = c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 2}});
  });
  while (model->calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = std::chrono::steady_clock::now();
  std::raise(SIGTERM);  // handled by the server's signal_set
  server_->wait();
  in_flight.join();
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.res[http::field::connection], "close");
  EXPECT_EQ(r.j["items"].size(), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  // Nothing listens any more.
  net::io_context ioc;
  tcp::socket s(ioc);
  beast::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_), ec);
  EXPECT_TRUE(ec);
}

// When the grace period ends, recommendations still queued are dropped instead of run into closed
// connections, so the server stops soon after it (10 queued x 300 ms would take 3 s).
TEST_F(ServerTest, ShutdownDropsQueuedWorkAfterTheGracePeriod) {
  ServerOptions o;
  o.shutdown_grace_ms = 200;
  o.model_threads = 1;
  auto model = std::make_shared<FakeModel>(/*sleep_ms=*/300);
  start(o, model);
  std::vector<std::thread> clients;
  for (int i = 0; i < 10; ++i) {
    clients.emplace_back([this] {
      try {
        Client c(port_);
        c.post("/v1/recommend", {{"history", {"A1"}}, {"k", 2}});
      } catch (const std::exception&) {
        // closed unanswered at the end of the grace period
      }
    });
  }
  while (model->calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the rest queue up
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  server_->wait();
  const auto took = std::chrono::steady_clock::now() - t0;
  server_.reset();  // closes the connections left unanswered
  for (auto& t : clients) t.join();
  EXPECT_LT(model->calls, 10);
  EXPECT_LT(took, std::chrono::milliseconds(2500));
}

TEST_F(ServerTest, ConnectionsOverTheLimitGet503) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  Client a(port_), b(port_);
  ASSERT_EQ(a.get("/healthz").status, 200u);
  ASSERT_EQ(b.get("/healthz").status, 200u);
  EXPECT_EQ(status_of(raw_exchange(port_, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), 503u);
}

TEST(ConnectionCapacityTest, KeepsDescriptorsFreeBesideTheConnections) {
  EXPECT_EQ(connection_capacity(100, 20000, 10), 100u);
  EXPECT_EQ(connection_capacity(4096, 1024, 10), 1024u - 10 - kReservedDescriptors);
  EXPECT_EQ(connection_capacity(4096, 100, 10), 1u);
}

// The default --max-connections (4096) is above Debian's default soft open-file limit (1024): the
// server raises the soft limit so that the cap it promises is the one enforced with a 503.
TEST_F(ServerTest, RaisesTheOpenFileLimitForItsConnections) {
  rlimit before{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
  if (before.rlim_max != RLIM_INFINITY && before.rlim_max < 4096)
    GTEST_SKIP() << "hard open-file limit " << before.rlim_max << " is below the test's needs";
  rlimit low = before;
  low.rlim_cur = 512;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  ServerOptions o;
  o.max_connections = 2000;
  start(o);
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &before), 0);
  EXPECT_GE(now.rlim_cur, 2000u + kReservedDescriptors);
  Client c(port_);
  EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST_F(ServerTest, ModelQueueLimitAnswers503) {
  ServerOptions o;
  o.max_pending_recommend = 1;
  auto model = std::make_shared<FakeModel>(/*sleep_ms=*/300);
  start(o, model);
  Reply first;
  std::thread t([&] {
    Client c(port_);
    first = c.post("/v1/recommend", {{"history", {"A1"}}});
  });
  while (model->calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Client c(port_);
  expect_error(c.post("/v1/recommend", {{"history", {"A1"}}}), 503);
  t.join();
  EXPECT_EQ(first.status, 200u);
}

}  // namespace
}  // namespace recsys::server
