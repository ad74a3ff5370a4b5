#include "http/router.h"

#include <gtest/gtest.h>

#include <string>

namespace intake::http {
namespace {

class EchoHandler final : public Handler {
 public:
  explicit EchoHandler(std::string name) : name_(std::move(name)) {}
  Response handle(const Request& /*request*/, const RouteParams& params) override {
    std::string body = name_;
    for (std::size_t i = 0; i < params.count; ++i) body += ":" + std::string(params[i]);
    return json_response(200, body);
  }

 private:
  std::string name_;
};

Request request(Method method, std::string_view path) {
  Request r;
  r.method = method;
  r.path = path;
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router.add(Method::kPost, "/v1/topics/{topic}", produce);
    router.add(Method::kGet, "/healthz", health);
    router.add(Method::kGet, "/v3/clusters/{cluster}/topics/{topic}/records", two);
    router.add(Method::kPost, "/v3/clusters/{cluster}/topics/{topic}/records", two);
  }
  EchoHandler produce{"produce"}, health{"health"}, two{"two"};
  Router router;
};

TEST_F(RouterTest, CapturesPathParameters) {
  EXPECT_EQ(router.dispatch(request(Method::kPost, "/v1/topics/events.click")).body, "produce:events.click");
  EXPECT_EQ(router.dispatch(request(Method::kPost, "/v3/clusters/c1/topics/t/records")).body, "two:c1:t");
}

TEST_F(RouterTest, TellsTheHandlerWhichRouteMatched) {
  class PatternHandler final : public Handler {
   public:
    Response handle(const Request&, const RouteParams& params) override {
      return json_response(200, std::string(params.pattern) + " " + std::string(params[0]));
    }
  } handler;
  Router both;
  both.add(Method::kPost, "/v1/topics/{topic}", handler);
  both.add(Method::kPost, "/v1/topics/{topic}/records", handler);
  EXPECT_EQ(both.dispatch(request(Method::kPost, "/v1/topics/records")).body, "/v1/topics/{topic} records");
  EXPECT_EQ(both.dispatch(request(Method::kPost, "/v1/topics/records/records")).body,
            "/v1/topics/{topic}/records records");
  EXPECT_EQ(both.dispatch(request(Method::kPost, "/v1/topics/a/records")).body, "/v1/topics/{topic}/records a");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  for (auto path : {"/v1/topics", "/v1/topics/", "/v1/topics/a/b", "/", "/healthz/x", "healthz"}) {
    const auto response = router.dispatch(request(Method::kPost, path));
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find("\"not_found\""), std::string::npos) << path;
  }
}

TEST_F(RouterTest, KnownPathWithOtherMethodIsMethodNotAllowedWithAllow) {
  const auto response = router.dispatch(request(Method::kGet, "/v1/topics/events.click"));
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.allow, "POST");
  EXPECT_NE(response.body.find("\"method_not_allowed\""), std::string::npos);
  const auto both = router.dispatch(request(Method::kDelete, "/v3/clusters/c/topics/t/records"));
  EXPECT_EQ(both.status, 405);
  EXPECT_EQ(both.allow, "GET, POST");
}

TEST_F(RouterTest, HeadIsServedByTheGetRoute) {
  EXPECT_EQ(router.dispatch(request(Method::kHead, "/healthz")).status, 200);
}

TEST(RouterPatterns, RejectsPatternWithoutLeadingSlash) {
  Router router;
  EchoHandler handler{"x"};
  EXPECT_THROW(router.add(Method::kGet, "healthz", handler), std::invalid_argument);
}

}  // namespace
}  // namespace intake::http
