// RequestMetrics: requests by route pattern and status, and their durations.
#include "ops/request_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "ops/metrics.h"

namespace intake::ops {
namespace {

class NullHandler final : public http::Handler {
 public:
  http::Response handle(const http::Request& /*request*/, const http::RouteParams& /*params*/) override { return {}; }
};

class RequestMetricsTest : public ::testing::Test {
 protected:
  RequestMetricsTest() {
    router_.add(http::Method::kPost, "/v1/topics/{topic}", handler_);
    router_.add(http::Method::kGet, "/metrics", handler_);
    admin_.add(http::Method::kGet, "/metrics", handler_);  // the same pattern on another router
  }
  // The pattern as the router hands it to the server (RouteParams::pattern).
  std::string_view pattern(const http::Router& router, std::size_t i) const { return router.patterns()[i]; }
  std::string scrape(const RequestMetrics& metrics) const {
    MetricsWriter writer;
    metrics.write(writer);
    return writer.take();
  }
  static http::AnsweredRequest answered(std::string_view route, int status, unsigned worker = 0,
                                        std::chrono::nanoseconds duration = std::chrono::milliseconds(2)) {
    http::AnsweredRequest request;
    request.route = route;
    request.status = status;
    request.worker = worker;
    request.duration = duration;
    return request;
  }

  NullHandler handler_;
  http::Router router_;
  http::Router admin_;
};

TEST_F(RequestMetricsTest, CountsByRoutePatternCodeAndClass) {
  const http::Router* routers[] = {&router_, &admin_};
  RequestMetrics metrics(routers, 2);
  metrics.on_answered(answered(pattern(router_, 0), 202, 0));
  metrics.on_answered(answered(pattern(router_, 0), 202, 1));
  metrics.on_answered(answered(pattern(router_, 0), 401, 1));
  metrics.on_answered(answered(pattern(admin_, 0), 200, 0));
  const std::string text = scrape(metrics);
  EXPECT_NE(text.find("intake_http_requests_total{route=\"/v1/topics/{topic}\",code=\"202\",class=\"2xx\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("intake_http_requests_total{route=\"/v1/topics/{topic}\",code=\"401\",class=\"4xx\"} 1\n"),
            std::string::npos);
  // Both routers' /metrics count as one route.
  EXPECT_NE(text.find("intake_http_requests_total{route=\"/metrics\",code=\"200\",class=\"2xx\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("code=\"500\""), std::string::npos) << "series appear once they count";
}

TEST_F(RequestMetricsTest, UnroutedRequestsAndUnknownCodesStayBounded) {
  const http::Router* routers[] = {&router_};
  RequestMetrics metrics(routers, 1);
  metrics.on_answered(answered({}, 404));
  metrics.on_answered(answered({}, 404));
  metrics.on_answered(answered(pattern(router_, 0), 299));
  metrics.on_answered(answered(pattern(router_, 0), 0));
  metrics.on_answered(answered(pattern(router_, 0), 1000));
  const std::string text = scrape(metrics);
  EXPECT_NE(text.find("intake_http_requests_total{route=\"unmatched\",code=\"404\",class=\"4xx\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("{route=\"/v1/topics/{topic}\",code=\"other\",class=\"2xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("{route=\"/v1/topics/{topic}\",code=\"other\",class=\"5xx\"} 2\n"), std::string::npos);
}

TEST_F(RequestMetricsTest, RouteOfARouterNotGivenIsFoundByItsText) {
  const http::Router* routers[] = {&router_};
  RequestMetrics metrics(routers, 1);
  EXPECT_EQ(metrics.route_label(pattern(admin_, 0)), "/metrics");
  EXPECT_EQ(metrics.route_label(std::string_view("/not/a/route")), "unmatched");
}

TEST_F(RequestMetricsTest, TimesRequestsByRoute) {
  const http::Router* routers[] = {&router_};
  RequestMetrics metrics(routers, 4);
  metrics.on_answered(answered(pattern(router_, 0), 202, 3, std::chrono::microseconds(300)));
  metrics.on_answered(answered(pattern(router_, 0), 202, 2, std::chrono::seconds(60)));
  const std::string text = scrape(metrics);
  EXPECT_NE(text.find("# TYPE intake_http_request_duration_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_http_request_duration_seconds_bucket{route=\"/v1/topics/{topic}\",le=\"0.0005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("intake_http_request_duration_seconds_bucket{route=\"/v1/topics/{topic}\",le=\"30\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("intake_http_request_duration_seconds_bucket{route=\"/v1/topics/{topic}\",le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("intake_http_request_duration_seconds_count{route=\"/v1/topics/{topic}\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("intake_http_request_duration_seconds_sum{route=\"/v1/topics/{topic}\"} 60.0003\n"),
            std::string::npos);
  EXPECT_EQ(text.find("_count{route=\"/metrics\"}"), std::string::npos) << "no histogram before a request";
}

}  // namespace
}  // namespace intake::ops
