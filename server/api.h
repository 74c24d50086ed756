// The JSON API: one handler per route over a store snapshot and an optional recommender.
// Every failure becomes a JSON error {"error": {"code", "status", "message"}} with the right
// HTTP status; nothing a client sends can crash the process.
//
//   GET  /healthz                      {"status":"ok","generation","items","maps":[..],"model"}
//   GET  /metrics                      Prometheus text
//   GET  /v1/items/{external_id}       item record + "semantic_ids": {map: "t1-t2-.."}   (404)
//   POST /v1/items:batchGet            {"ids":[..] (<= max_batch), "semantic_ids":true}
//                                      -> {"items":[record|null in input order],"found","missing"}
//   GET  /v1/maps                      {"generation","maps":[{name,method,version,vocab,..}]}
//   GET  /v1/maps/{map}                one map's info (404 unknown map)
//   GET  /v1/maps/{map}/ids/{t1-t2-..} the item with that full ID (400 malformed or wrong length)
//   GET  /v1/maps/{map}/prefix/{t1-..}?limit=N&cursor=ID
//                                      {"items":[{semantic_id,index,external_id,title}],
//                                       "next_cursor": ID|null}  (empty prefix = whole map)
//   POST /v1/recommend                 {"history":[ids]} and/or {"user":id}, "k" (10, at most
//                                      --max-k), "beam" (max(20,k), at most --max-beam),
//                                      "exclude_history" (false); a user's stored history is
//                                      used whole; without "user", a TIGER trained with hashed
//                                      user tokens reads user 0's token
//                                      -> {"model","k","beam","items":[{rank,index,external_id,
//                                          title,score}]}; 503 without a model or when the
//                                          model queue is full
// POST bodies need Content-Type: application/json (415), at most 32 levels deep (400).
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "server/metrics.h"
#include "server/recommend_backend.h"
#include "server/router.h"
#include "server/server_options.h"
#include "server/store_provider.h"

namespace boost::asio {
class thread_pool;
}

namespace recsys::server {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

class Api {
 public:
  using Respond = std::function<void(Response&&)>;

  // `model` may be null: POST /v1/recommend then answers 503.
  Api(StoreProvider& store, Metrics& metrics, const ServerOptions& options,
      std::shared_ptr<RecommendBackend> model);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Handles one request. `respond` is called exactly once: inline, or for recommend from a
  // model thread. Never throws.
  void handle(Request&& request, Respond respond);
  // Same, with recommendations run inline (fuzzing, tests).
  Response handle_sync(Request&& request);

  // Waits for queued recommendations to finish (after the server stopped reading).
  void drain();
  // Recommendations still queued from now on answer 503 without running the model (the shutdown
  // grace period is over: nobody will read their answers).
  void cancel_queued() { cancelled_ = true; }

  // A JSON error response.
  static Response error_response(unsigned status, std::string_view message, unsigned version,
                                 bool keep_alive);

 private:
  struct Call;
  void dispatch(const std::shared_ptr<Call>& call, bool inline_model);
  void run_recommend(const std::shared_ptr<Call>& call, bool inline_model);

  StoreProvider& store_;
  Metrics& metrics_;
  const ServerOptions options_;
  std::shared_ptr<RecommendBackend> model_;
  std::unique_ptr<boost::asio::thread_pool> model_pool_;
  std::atomic<size_t> pending_recommend_{0};
  std::atomic<bool> cancelled_{false};
};

}  // namespace recsys::server
