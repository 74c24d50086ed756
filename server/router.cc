#include "server/router.h"

namespace recsys::server {

namespace http = boost::beast::http;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// HEAD is allowed wherever GET is (RFC 9110 9.3.2); the response then drops its body.
void expect_method(RouteMatch& m, Route route, http::verb method, http::verb allowed) {
  m.route = route;
  m.method_allowed =
      method == allowed || (allowed == http::verb::get && method == http::verb::head);
  if (!m.method_allowed)
    m.allow = allowed == http::verb::get ? "GET, HEAD" : std::string(http::to_string(allowed));
}

}  // namespace

const char* route_name(Route route) {
  switch (route) {
    case Route::kHealthz:
      return "healthz";
    case Route::kMetrics:
      return "metrics";
    case Route::kItem:
      return "items_get";
    case Route::kItemsBatchGet:
      return "items_batch_get";
    case Route::kMaps:
      return "maps_list";
    case Route::kMapInfo:
      return "map_info";
    case Route::kMapId:
      return "map_id";
    case Route::kMapPrefix:
      return "map_prefix";
    case Route::kRecommend:
      return "recommend";
    default:
      return "unmatched";
  }
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

RouteMatch match_route(http::verb method, std::string_view target) {
  RouteMatch m;
  if (target.empty() || target.front() != '/') {
    m.error = "request target must be an absolute path";
    return m;
  }
  std::string_view path = target, query;
  if (const size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (const size_t h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);

  // Query parameters (last occurrence wins).
  std::string key, value;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (!percent_decode(part.substr(0, eq), key, true) ||
        !percent_decode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1),
                        value, true)) {
      m.error = "malformed percent-encoding in the query string";
      return m;
    }
    m.query[key] = value;
  }

  // Path segments, decoded one by one (so %2F inside an id stays inside it).
  std::vector<std::string> seg;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    std::string decoded;
    if (!percent_decode(path.substr(0, slash), decoded)) {
      m.error = "malformed percent-encoding in the path";
      return m;
    }
    seg.push_back(std::move(decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }

  const size_t n = seg.size();
  if (n == 1 && seg[0] == "healthz") {
    expect_method(m, Route::kHealthz, method, http::verb::get);
  } else if (n == 1 && seg[0] == "metrics") {
    expect_method(m, Route::kMetrics, method, http::verb::get);
  } else if (n >= 2 && seg[0] == "v1") {
    if (n == 2 && seg[1] == "items:batchGet") {
      expect_method(m, Route::kItemsBatchGet, method, http::verb::post);
    } else if (n == 2 && seg[1] == "recommend") {
      expect_method(m, Route::kRecommend, method, http::verb::post);
    } else if (n == 3 && seg[1] == "items" && !seg[2].empty()) {
      expect_method(m, Route::kItem, method, http::verb::get);
      m.params = {seg[2]};
    } else if (n == 2 && seg[1] == "maps") {
      expect_method(m, Route::kMaps, method, http::verb::get);
    } else if (n == 3 && seg[1] == "maps" && !seg[2].empty()) {
      expect_method(m, Route::kMapInfo, method, http::verb::get);
      m.params = {seg[2]};
    } else if (n == 5 && seg[1] == "maps" && !seg[2].empty() && seg[3] == "ids" &&
               !seg[4].empty()) {
      expect_method(m, Route::kMapId, method, http::verb::get);
      m.params = {seg[2], seg[4]};
    } else if ((n == 4 || n == 5) && seg[1] == "maps" && !seg[2].empty() && seg[3] == "prefix") {
      expect_method(m, Route::kMapPrefix, method, http::verb::get);
      m.params = {seg[2], n == 5 ? seg[4] : std::string()};
    }
  }
  if (m.route == Route::kUnmatched) m.params.clear();
  return m;
}

}  // namespace recsys::server
