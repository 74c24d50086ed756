// Request routing: splits a request target into decoded path segments and query parameters and
// matches it against the API's routes. Pure functions, no I/O (fuzzed by fuzz/fuzz_http_request).
#pragma once

#include <boost/beast/http/verb.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace recsys::server {

enum class Route {
  kHealthz,        // GET  /healthz
  kMetrics,        // GET  /metrics
  kItem,           // GET  /v1/items/{external_id}
  kItemsBatchGet,  // POST /v1/items:batchGet
  kMaps,           // GET  /v1/maps
  kMapInfo,        // GET  /v1/maps/{map}
  kMapId,          // GET  /v1/maps/{map}/ids/{t1-t2-...}
  kMapPrefix,      // GET  /v1/maps/{map}/prefix/{t1-...}?limit=&cursor=
  kRecommend,      // POST /v1/recommend
  kUnmatched,      // anything else (404), or a malformed target (400)
  kNumRoutes
};

// Stable label used in metrics ("items_get", ...).
const char* route_name(Route route);

struct RouteMatch {
  Route route = Route::kUnmatched;
  bool method_allowed = false;  // false with a matched route: 405, `allow` lists the methods
  std::string allow;
  std::vector<std::string> params;  // decoded path parameters in order ({map}, {id}, ...)
  std::map<std::string, std::string> query;
  std::string error;  // non-empty: the target is malformed (400)
};

RouteMatch match_route(boost::beast::http::verb method, std::string_view target);

// %XX-decoding (and '+' -> ' ' when `plus_is_space`); false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space = false);

}  // namespace recsys::server
