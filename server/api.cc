#include "server/api.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/field.hpp>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "recsys/error.h"
#include "recsys/logging.h"

namespace recsys::server {

namespace http = boost::beast::http;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxJsonDepth = 32;

// An error to be answered with an HTTP status (thrown inside handlers, caught in dispatch).
struct HttpError {
  unsigned status;
  std::string message;
};

[[noreturn]] void fail(unsigned status, std::string message) {
  throw HttpError{status, std::move(message)};
}

const char* status_word(unsigned status) {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 431:
      return "header_too_large";
    case 500:
      return "internal";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

// Nesting depth of a JSON text (brackets outside strings); bounds the parser's work on hostile
// input like 100k nested arrays.
size_t json_depth(std::string_view s) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

bool is_json_content_type(std::string_view ct) {
  const size_t semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  static constexpr std::string_view kJson = "application/json";
  if (type.size() != kJson.size()) return false;
  for (size_t i = 0; i < type.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(type[i])) != kJson[i]) return false;
  return true;
}

json parse_body(const Request& req) {
  if (!is_json_content_type(req[http::field::content_type]))
    fail(415, "the body must be JSON (Content-Type: application/json)");
  if (json_depth(req.body()) > kMaxJsonDepth)
    fail(400, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  json body = json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) fail(400, "malformed JSON body");
  if (!body.is_object()) fail(400, "the JSON body must be an object");
  return body;
}

uint64_t get_uint(const json& body, const char* key, uint64_t fallback, uint64_t lo, uint64_t hi) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_unsigned())  // non-negative integer literals parse as unsigned
    fail(400, std::string("'") + key + "' must be a non-negative integer");
  const uint64_t v = it->get<uint64_t>();
  if (v < lo || v > hi)
    fail(400, std::string("'") + key + "' must be in " + std::to_string(lo) + ".." +
                  std::to_string(hi) + ", got " + std::to_string(v));
  return v;
}

std::vector<std::string> get_string_array(const json& body, const char* key, size_t max_size) {
  const auto it = body.find(key);
  if (it == body.end()) fail(400, std::string("missing '") + key + "'");
  if (!it->is_array()) fail(400, std::string("'") + key + "' must be an array of strings");
  if (it->size() > max_size)
    fail(400, std::string("'") + key + "' has " + std::to_string(it->size()) +
                  " entries, the limit is " + std::to_string(max_size));
  std::vector<std::string> out;
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_string()) fail(400, std::string("'") + key + "' must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

SemanticId parse_id_or_fail(const std::string& text, const char* what) {
  try {
    return parse_semantic_id(text);
  } catch (const Error& e) {
    fail(400, std::string("malformed ") + what + " '" + text +
                  "': expected tokens like 12-7-201 (integers 0..65535 joined by '-')");
  }
}

size_t parse_size_param(const std::map<std::string, std::string>& query, const char* key,
                        size_t fallback, size_t lo, size_t hi) {
  const auto it = query.find(key);
  if (it == query.end()) return fallback;
  const std::string& s = it->second;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    fail(400, std::string("query parameter '") + key + "' must be an integer in " +
                  std::to_string(lo) + ".." + std::to_string(hi));
  return size_t(v);
}

json item_json(const StoreSnapshot& snap, ItemIndex index, const ItemRecord& rec,
               bool with_ids = true) {
  json j = {{"index", index},
            {"external_id", rec.external_id},
            {"title", rec.title},
            {"brand", rec.brand},
            {"description", rec.description},
            {"price", rec.price},
            {"categories", rec.categories}};
  if (with_ids) {
    json ids = json::object();
    for (size_t i = 0; i < snap.maps.size(); ++i)
      if (index < snap.item_ids[i].size())
        ids[snap.maps[i].name] = format_semantic_id(snap.item_ids[i][index]);
    j["semantic_ids"] = std::move(ids);
  }
  return j;
}

json map_json(const storage::MapInfo& m) {
  return {{"name", m.name},   {"method", m.method},          {"version", m.version},
          {"vocab", m.vocab}, {"id_length", m.vocab.size()}, {"num_items", m.num_items}};
}

Response make_json_response(unsigned status, const json& body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "recsys");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  // Replace invalid UTF-8 (stored text is not guaranteed clean) instead of throwing.
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response json_response(unsigned status, const json& body, const Request& req) {
  return make_json_response(status, body, req.version(), req.keep_alive());
}

}  // namespace

struct Api::Call {
  Request req;
  Respond respond;
  Clock::time_point start;
  RouteMatch match;
  bool done = false;
};

Api::Api(StoreProvider& store, Metrics& metrics, const ServerOptions& options,
         std::shared_ptr<RecommendBackend> model)
    : store_(store), metrics_(metrics), options_(options), model_(std::move(model)) {
  if (model_) model_pool_ = std::make_unique<boost::asio::thread_pool>(options_.model_threads);
}

Api::~Api() { drain(); }

void Api::drain() {
  if (model_pool_) model_pool_->join();
}

Response Api::error_response(unsigned status, std::string_view message, unsigned version,
                             bool keep_alive) {
  const json body = {
      {"error", {{"code", status}, {"status", status_word(status)}, {"message", message}}}};
  return make_json_response(status, body, version, keep_alive);
}

void Api::handle(Request&& request, Respond respond) {
  auto call = std::make_shared<Call>();
  call->req = std::move(request);
  call->respond = std::move(respond);
  call->start = Clock::now();
  dispatch(call, false);
}

Response Api::handle_sync(Request&& request) {
  Response out;
  auto call = std::make_shared<Call>();
  call->req = std::move(request);
  call->respond = [&out](Response&& r) { out = std::move(r); };
  call->start = Clock::now();
  dispatch(call, true);
  return out;
}

void Api::dispatch(const std::shared_ptr<Call>& call, bool inline_model) {
  const Request& req = call->req;
  auto finish = [this, &call](Response&& res) {
    const double seconds = std::chrono::duration<double>(Clock::now() - call->start).count();
    metrics_.record_request(call->match.route, res.result_int(), seconds);
    // A response to HEAD has the headers of the GET response and no body; a body sent anyway
    // would be read as the start of the next response on the connection.
    if (call->req.method() == http::verb::head) {
      res.content_length(res.body().size());
      res.body().clear();
    }
    call->respond(std::move(res));
  };
  auto error = [&](unsigned status, std::string_view message) {
    finish(error_response(status, message, req.version(), req.keep_alive()));
  };
  try {
    call->match = match_route(req.method(), req.target());
    const RouteMatch& m = call->match;
    if (!m.error.empty()) return error(400, m.error);
    if (m.route == Route::kUnmatched) return error(404, "no such endpoint");
    if (!m.method_allowed) {
      Response res = error_response(405, "method not allowed; use " + m.allow, req.version(),
                                    req.keep_alive());
      res.set(http::field::allow, m.allow);
      return finish(std::move(res));
    }
    const auto snap = store_.current();
    const storage::Store& store = *snap->store;

    // Resolves a map name, re-opening the store once if it may have appeared since.
    auto resolve_map = [&](std::shared_ptr<const StoreSnapshot>& s, const std::string& name) {
      const storage::MapInfo* info = s->find_map(name);
      if (!info) {
        // This refresh, or one that finished since the request began, may have brought it.
        store_.refresh_on_miss(options_.refresh_on_miss_ms);
        s = store_.current();
        info = s->find_map(name);
      }
      if (!info) fail(404, "no ID map named '" + name + "'");
      return info;
    };

    switch (m.route) {
      case Route::kHealthz: {
        json maps = json::array();
        for (const auto& mi : snap->maps) maps.push_back(mi.name);
        return finish(json_response(200,
                                    {{"status", "ok"},
                                     {"store", store.path()},
                                     {"generation", snap->generation},
                                     {"items", store.stats().num_items},
                                     {"maps", maps},
                                     {"model", model_ ? json(model_->name()) : json()}},
                                    req));
      }
      case Route::kMetrics: {
        Response res{http::status::ok, req.version()};
        res.set(http::field::server, "recsys");
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.keep_alive(req.keep_alive());
        res.body() = metrics_.render();
        res.prepare_payload();
        return finish(std::move(res));
      }
      case Route::kItem: {
        const std::string& id = m.params[0];
        const auto idx = store.find_item(id);
        if (!idx) fail(404, "no item '" + id + "'");
        const auto rec = store.get_item(*idx);
        if (!rec) fail(500, "item index without record");
        return finish(json_response(200, item_json(*snap, *idx, *rec), req));
      }
      case Route::kItemsBatchGet: {
        const json body = parse_body(req);
        const auto ids = get_string_array(body, "ids", options_.max_batch);
        bool with_ids = true;
        if (auto it = body.find("semantic_ids"); it != body.end()) {
          if (!it->is_boolean()) fail(400, "'semantic_ids' must be true or false");
          with_ids = it->get<bool>();
        }
        const auto found = store.get_items_by_key(ids);
        json items = json::array(), missing = json::array();
        size_t n_found = 0;
        for (size_t i = 0; i < ids.size(); ++i) {
          if (found[i]) {
            items.push_back(item_json(*snap, found[i]->first, found[i]->second, with_ids));
            ++n_found;
          } else {
            items.push_back(nullptr);
            missing.push_back(ids[i]);
          }
        }
        return finish(json_response(
            200, {{"items", std::move(items)}, {"found", n_found}, {"missing", std::move(missing)}},
            req));
      }
      case Route::kMaps: {
        json maps = json::array();
        for (const auto& mi : snap->maps) maps.push_back(map_json(mi));
        return finish(json_response(200, {{"generation", snap->generation}, {"maps", maps}}, req));
      }
      case Route::kMapInfo: {
        auto s = snap;
        return finish(json_response(200, map_json(*resolve_map(s, m.params[0])), req));
      }
      case Route::kMapId: {
        auto s = snap;
        const storage::MapInfo* info = resolve_map(s, m.params[0]);
        const SemanticId id = parse_id_or_fail(m.params[1], "semantic ID");
        if (id.size() != info->vocab.size())
          fail(400, "semantic ID '" + m.params[1] + "' has " + std::to_string(id.size()) +
                        " tokens; IDs of map '" + info->name + "' have " +
                        std::to_string(info->vocab.size()));
        const auto idx = s->store->item_by_semantic_id(info->name, id);
        if (!idx) fail(404, "no item has ID " + m.params[1] + " in map '" + info->name + "'");
        const auto rec = s->store->get_item(*idx);
        if (!rec) fail(500, "item index without record");
        json j = item_json(*s, *idx, *rec);
        j["map"] = info->name;
        j["semantic_id"] = m.params[1];
        return finish(json_response(200, j, req));
      }
      case Route::kMapPrefix: {
        auto s = snap;
        const storage::MapInfo* info = resolve_map(s, m.params[0]);
        SemanticId prefix;
        if (!m.params[1].empty()) prefix = parse_id_or_fail(m.params[1], "ID prefix");
        if (prefix.size() > info->vocab.size())
          fail(400, "prefix has " + std::to_string(prefix.size()) + " tokens; IDs of map '" +
                        info->name + "' have " + std::to_string(info->vocab.size()));
        const size_t limit = parse_size_param(m.query, "limit", options_.default_prefix_limit, 1,
                                              options_.max_prefix_limit);
        std::optional<SemanticId> after;
        if (auto it = m.query.find("cursor"); it != m.query.end() && !it->second.empty())
          after = parse_id_or_fail(it->second, "cursor");
        auto hits = s->store->items_by_prefix(info->name, prefix, limit + 1, after);
        const bool more = hits.size() > limit;
        if (more) hits.resize(limit);
        json items = json::array();
        for (const auto& [sid, idx] : hits) {
          const auto rec = s->store->get_item(idx);
          items.push_back({{"semantic_id", format_semantic_id(sid)},
                           {"index", idx},
                           {"external_id", rec ? rec->external_id : std::string()},
                           {"title", rec ? rec->title : std::string()}});
        }
        json out = {{"map", info->name},
                    {"prefix", prefix.empty() ? std::string() : format_semantic_id(prefix)},
                    {"items", std::move(items)},
                    {"next_cursor", more ? json(format_semantic_id(hits.back().first)) : json()}};
        return finish(json_response(200, out, req));
      }
      case Route::kRecommend:
        return run_recommend(call, inline_model);
      default:
        return error(404, "no such endpoint");
    }
  } catch (const HttpError& e) {
    error(e.status, e.message);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidArgument) {
      error(400, e.what());
    } else if (e.code() == ErrorCode::kNotFound) {
      error(404, e.what());
    } else {
      RECSYS_LOG(Error) << "request " << req.target() << " failed: " << e.what();
      error(500, "internal error");
    }
  } catch (const std::exception& e) {
    RECSYS_LOG(Error) << "request " << req.target() << " failed: " << e.what();
    error(500, "internal error");
  }
}

void Api::run_recommend(const std::shared_ptr<Call>& call, bool inline_model) {
  // Runs on the dispatching thread up to the queueing; errors propagate to dispatch().
  const Request& req = call->req;
  if (!model_) fail(503, "no model loaded (start the server with --model CHECKPOINT)");
  const json body = parse_body(req);
  auto snap = store_.current();
  const storage::Store& store = *snap->store;

  RecommendRequest rr;
  rr.k = get_uint(body, "k", std::min<uint64_t>(10, options_.max_k), 1, options_.max_k);
  // Default beam: 20, at least k, at most --max-beam (which is >= --max-k).
  const uint64_t max_beam = uint64_t(options_.max_beam);
  rr.beam = int64_t(
      get_uint(body, "beam", std::min(std::max<uint64_t>(20, rr.k), max_beam), 1, max_beam));
  if (size_t(rr.beam) < rr.k)
    fail(400,
         "'beam' (" + std::to_string(rr.beam) + ") must be >= 'k' (" + std::to_string(rr.k) + ")");
  if (auto it = body.find("exclude_history"); it != body.end()) {
    if (!it->is_boolean()) fail(400, "'exclude_history' must be true or false");
    rr.exclude_history = it->get<bool>();
  }
  const bool has_history = body.contains("history"), has_user = body.contains("user");
  if (!has_history && !has_user) fail(400, "give 'history' (item ids) or 'user' (a user id)");
  if (has_user) {
    const json& u = body["user"];
    if (!u.is_string()) fail(400, "'user' must be a string");
    const std::string uid = u.get<std::string>();
    const auto uidx = store.find_user(uid);
    if (!uidx) fail(404, "no user '" + uid + "'");
    rr.user = *uidx;
    if (!has_history) {
      const auto rec = store.get_user(*uidx);
      if (!rec || rec->items.empty()) fail(404, "user '" + uid + "' has no history");
      // Whole (the store bounds it): exclude_history must see every item the user had, and the
      // models read only their last few.
      rr.history = rec->items;
    }
  }
  if (has_history) {
    const auto ids = get_string_array(body, "history", options_.max_history);
    if (ids.empty()) fail(400, "'history' must not be empty");
    const auto found = store.get_items_by_key(ids);
    std::string unknown;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (found[i])
        rr.history.push_back(found[i]->first);
      else
        unknown += (unknown.empty() ? "" : ", ") + ids[i];
    }
    if (!unknown.empty()) fail(404, "unknown item(s) in history: " + unknown);
  }

  auto work = [this, call, snap, rr = std::move(rr)]() {
    Response res;
    if (cancelled_) {
      res = error_response(503, "the server is shutting down", call->req.version(), false);
    } else {
      try {
        const auto recs = model_->recommend(rr);
        json items = json::array();
        size_t rank = 0;
        for (const auto& r : recs) {
          const auto rec = snap->store->get_item(r.item);
          items.push_back({{"rank", ++rank},
                           {"index", r.item},
                           {"external_id", rec ? rec->external_id : std::string()},
                           {"title", rec ? rec->title : std::string()},
                           {"score", r.score}});
        }
        res = json_response(200,
                            {{"model", model_->name()},
                             {"k", rr.k},
                             {"beam", rr.beam},
                             {"items", std::move(items)}},
                            call->req);
      } catch (const Error& e) {
        const unsigned status = e.code() == ErrorCode::kInvalidArgument ? 400
                                : e.code() == ErrorCode::kNotFound      ? 404
                                                                        : 500;
        if (status == 500) {
          RECSYS_LOG(Error) << "recommend failed: " << e.what();
        }
        res = error_response(status, status == 500 ? "internal error" : e.what(),
                             call->req.version(), call->req.keep_alive());
      } catch (const std::exception& e) {
        RECSYS_LOG(Error) << "recommend failed: " << e.what();
        res = error_response(500, "internal error", call->req.version(), call->req.keep_alive());
      }
    }
    --pending_recommend_;
    const double seconds = std::chrono::duration<double>(Clock::now() - call->start).count();
    metrics_.record_request(Route::kRecommend, res.result_int(), seconds);
    call->respond(std::move(res));
  };
  if (++pending_recommend_ > options_.max_pending_recommend) {
    --pending_recommend_;
    fail(503, "too many recommendations queued; retry later");
  }
  if (inline_model)
    work();
  else
    boost::asio::post(*model_pool_, std::move(work));
}

}  // namespace recsys::server
