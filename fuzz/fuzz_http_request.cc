// libFuzzer target: raw bytes -> Beast request parser (with the server's limits) -> router -> the
// JSON API over a tiny store built at start-up. Any crash, sanitizer report, uncaught exception
// or 5xx answer to a well-formed request is a finding.
#include <unistd.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "recsys/logging.h"
#include "server/api.h"
#include "storage/store.h"

namespace {

namespace http = boost::beast::http;
using namespace recsys;

class FakeModel : public server::RecommendBackend {
 public:
  std::string name() const override { return "fake"; }
  std::vector<server::Recommendation> recommend(const server::RecommendRequest& r) override {
    std::vector<server::Recommendation> out;
    for (size_t i = 0; i < r.k; ++i) out.push_back({ItemIndex((r.history.back() + i) % 16), 0.f});
    return out;
  }
};

struct World {
  server::ServerOptions options;
  std::unique_ptr<server::StoreProvider> store;
  server::Metrics metrics;
  std::unique_ptr<server::Api> api;
};

World* world = nullptr;
std::string world_dir;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_log_level(LogLevel::kOff);
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("recsys_fuzz_http_" + std::to_string(getpid()));
  fs::remove_all(dir);
  world_dir = dir.string();
  Dataset d;
  d.name = "fuzz";
  for (int i = 0; i < 16; ++i) {
    ItemRecord it;
    it.external_id = "A" + std::to_string(i);
    it.title = "T\xc3\xa9" + std::to_string(i);
    it.categories = {{"C", "D"}};
    d.items.push_back(it);
  }
  d.users.push_back({"u1", {0, 1, 2}, {1, 2, 3}});
  d.finalize_stats();
  storage::Store::write_dataset((dir / "store").string(), d, "{}", false);
  {
    auto rw = storage::Store::open((dir / "store").string(), storage::Store::Mode::kReadWrite);
    IdMap m;
    m.name = "rq";
    m.method = "fuzz";
    m.vocab = {4, 4, 2};
    for (Token i = 0; i < 16; ++i) m.ids.push_back({Token(i / 4), Token(i % 4), 0});
    rw->write_id_map(m);
  }
  world = new World;
  world->options.max_body_bytes = 8192;
  world->options.max_header_bytes = 2048;
  world->options.max_batch = 64;
  world->store = std::make_unique<server::StoreProvider>((dir / "store").string());
  world->api = std::make_unique<server::Api>(*world->store, world->metrics, world->options,
                                             std::make_shared<FakeModel>());
  // The store stays open (read-only) for the whole run; the directory goes with the process.
  std::atexit([] { std::filesystem::remove_all(world_dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(world->options.max_body_bytes);
  parser.header_limit(static_cast<std::uint32_t>(world->options.max_header_bytes));
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < size && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;  // the server answers these with 400/413/431 and closes
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  server::Response res = world->api->handle_sync(parser.release());
  const unsigned status = res.result_int();
  switch (status) {
    case 200:
    case 400:
    case 404:
    case 405:
    case 413:
    case 415:
    case 503:
      break;
    default:
      std::fprintf(stderr, "unexpected status %u: %s\n", status, res.body().c_str());
      std::abort();
  }
  if (res.body().empty()) std::abort();
  return 0;
}
