#include "server/router.h"

#include <gtest/gtest.h>

#include "server/metrics.h"

namespace recsys::server {
namespace {

using boost::beast::http::verb;

TEST(RouterTest, MatchesEveryRoute) {
  EXPECT_EQ(match_route(verb::get, "/healthz").route, Route::kHealthz);
  EXPECT_EQ(match_route(verb::get, "/metrics").route, Route::kMetrics);
  EXPECT_EQ(match_route(verb::post, "/v1/items:batchGet").route, Route::kItemsBatchGet);
  EXPECT_EQ(match_route(verb::post, "/v1/recommend").route, Route::kRecommend);
  EXPECT_EQ(match_route(verb::get, "/v1/maps").route, Route::kMaps);
  const auto item = match_route(verb::get, "/v1/items/B00X%2F1?x=1");
  EXPECT_EQ(item.route, Route::kItem);
  EXPECT_TRUE(item.method_allowed);
  ASSERT_EQ(item.params.size(), 1u);
  EXPECT_EQ(item.params[0], "B00X/1");
  const auto id = match_route(verb::get, "/v1/maps/rq/ids/1-2-3");
  EXPECT_EQ(id.route, Route::kMapId);
  EXPECT_EQ(id.params, (std::vector<std::string>{"rq", "1-2-3"}));
  const auto prefix = match_route(verb::get, "/v1/maps/rq/prefix/1-2?limit=5&cursor=1-2-0");
  EXPECT_EQ(prefix.route, Route::kMapPrefix);
  EXPECT_EQ(prefix.params, (std::vector<std::string>{"rq", "1-2"}));
  EXPECT_EQ(prefix.query.at("limit"), "5");
  EXPECT_EQ(prefix.query.at("cursor"), "1-2-0");
  const auto all = match_route(verb::get, "/v1/maps/rq/prefix/");
  EXPECT_EQ(all.route, Route::kMapPrefix);
  EXPECT_EQ(all.params[1], "");
}

TEST(RouterTest, WrongMethodIsNotAllowedAndNamesTheAllowedOne) {
  const auto m = match_route(verb::post, "/v1/items/A1");
  EXPECT_EQ(m.route, Route::kItem);
  EXPECT_FALSE(m.method_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  EXPECT_EQ(match_route(verb::get, "/v1/recommend").allow, "POST");
  EXPECT_FALSE(match_route(verb::delete_, "/healthz").method_allowed);
  // HEAD goes wherever GET does, and nowhere else.
  EXPECT_TRUE(match_route(verb::head, "/v1/items/A1").method_allowed);
  EXPECT_TRUE(match_route(verb::head, "/healthz").method_allowed);
  EXPECT_FALSE(match_route(verb::head, "/v1/recommend").method_allowed);
}

TEST(RouterTest, UnknownPathsAreUnmatched) {
  for (const char* t : {"/", "/v1", "/v1/items", "/v1/items/", "/v2/items/A", "/v1/maps/rq/ids",
                        "/v1/maps/rq/ids/", "/v1/maps//ids/1", "/healthz/x", "/v1/maps/rq/x/1"})
    EXPECT_EQ(match_route(verb::get, t).route, Route::kUnmatched) << t;
}

TEST(RouterTest, MalformedTargetsAreErrors) {
  EXPECT_FALSE(match_route(verb::get, "").error.empty());
  EXPECT_FALSE(match_route(verb::get, "http://x/healthz").error.empty());
  EXPECT_FALSE(match_route(verb::get, "/v1/items/%zz").error.empty());
  EXPECT_FALSE(match_route(verb::get, "/v1/items/%4").error.empty());
  EXPECT_FALSE(match_route(verb::get, "/v1/maps/a/prefix/1?limit=%").error.empty());
  EXPECT_TRUE(match_route(verb::get, "/v1/items/%41").error.empty());
}

TEST(RouterTest, PercentDecodeHandlesPlusAndEscapes) {
  std::string out;
  ASSERT_TRUE(percent_decode("a+b%20c%2b", out, true));
  EXPECT_EQ(out, "a b c+");
  ASSERT_TRUE(percent_decode("a+b", out, false));
  EXPECT_EQ(out, "a+b");
  EXPECT_FALSE(percent_decode("%g0", out));
  EXPECT_FALSE(percent_decode("abc%", out));
}

TEST(MetricsTest, RendersCountsAndCumulativeHistogram) {
  Metrics m;
  m.record_request(Route::kItem, 200, 0.0002);
  m.record_request(Route::kItem, 200, 0.003);
  m.record_request(Route::kItem, 404, 0.00005);
  m.record_connection_error(Metrics::ConnectionError::kTimeout);
  EXPECT_EQ(m.requests(Route::kItem, 200), 2u);
  EXPECT_EQ(m.requests(Route::kItem, 404), 1u);
  const std::string text = m.render();
  EXPECT_NE(text.find("recsys_http_requests_total{route=\"items_get\",status=\"200\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("recsys_http_request_duration_seconds_bucket{route=\"items_get\","
                      "le=\"0.0001\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("recsys_http_request_duration_seconds_bucket{route=\"items_get\","
                      "le=\"0.0025\"} 2"),
            std::string::npos);
  EXPECT_NE(text.find("recsys_http_request_duration_seconds_bucket{route=\"items_get\","
                      "le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("recsys_http_errors_total{class=\"4xx\"} 1"), std::string::npos);
  EXPECT_NE(text.find("recsys_connection_errors_total{kind=\"timeout\"} 1"), std::string::npos);
  // Routes without requests have no histogram lines.
  EXPECT_EQ(text.find("route=\"recommend\""), std::string::npos);
}

}  // namespace
}  // namespace recsys::server
