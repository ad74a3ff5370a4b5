// With server.admin_listen, /admin/* and /metrics answer only on the admin listener; the
// probes answer on both. Without it, everything is on the public listener as before.
#include "ops/operator_routes.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "crypto/digest.h"
#include "ops/metrics.h"

namespace intake::ops {
namespace {

class NamedHandler final : public http::Handler {
 public:
  explicit NamedHandler(std::string name) : name_(std::move(name)) {}
  http::Response handle(const http::Request& /*request*/, const http::RouteParams& /*params*/) override {
    return http::json_response(200, name_);
  }

 private:
  std::string name_;
};

class BearerHeader final : public http::HeaderSource {
 public:
  explicit BearerHeader(std::string value) : value_(std::move(value)) {}
  std::string_view find(std::string_view name) const override {
    return name == "Authorization" ? std::string_view(value_) : std::string_view();
  }
  void for_each(const std::function<void(std::string_view name, std::string_view value)>& visit) const override {
    visit("Authorization", value_);
  }

 private:
  std::string value_;
};

http::Response get(const http::Router& router, std::string_view path, const http::HeaderSource* headers = nullptr) {
  http::Request request;
  request.method = http::Method::kGet;
  request.path = path;
  request.headers = headers;
  return router.dispatch(request);
}

class OperatorRoutesTest : public ::testing::Test {
 protected:
  NamedHandler liveness{"live"}, readiness{"ready"}, admin_config{"admin"}, metrics{"metrics"};
  OperatorHandlers handlers{liveness, readiness, admin_config, admin_config, metrics};
};

TEST_F(OperatorRoutesTest, WithoutAnAdminListenerEverythingIsOnThePublicOne) {
  http::Router api;
  add_operator_routes(handlers, api, nullptr);
  EXPECT_EQ(get(api, "/healthz").body, "live");
  EXPECT_EQ(get(api, "/readyz").body, "ready");
  EXPECT_EQ(get(api, "/admin/config").body, "admin");
  EXPECT_EQ(get(api, "/metrics").body, "metrics");
}

TEST_F(OperatorRoutesTest, WithAnAdminListenerThePublicOneAnswersAdminAndMetrics404) {
  http::Router api, admin;
  add_operator_routes(handlers, api, &admin);
  for (auto path : {"/admin/config", "/metrics"}) {
    const auto response = get(api, path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find(R"("code":"not_found")"), std::string::npos) << response.body;
  }
  EXPECT_EQ(get(admin, "/admin/config").body, "admin");
  EXPECT_EQ(get(admin, "/metrics").body, "metrics");
  for (const auto* router : {&api, &admin}) {
    EXPECT_EQ(get(*router, "/healthz").body, "live");
    EXPECT_EQ(get(*router, "/readyz").body, "ready");
  }
}

TEST(MetricsHandler, RequiresTheAdminTokenWhenConfigured) {
  MetricsHandler guarded(crypto::sha256("admin-token"));
  http::Router router;
  router.add(http::Method::kGet, "/metrics", guarded);
  const auto without = get(router, "/metrics");
  EXPECT_EQ(without.status, 401);
  EXPECT_NE(without.body.find(R"("code":"invalid_admin_token")"), std::string::npos) << without.body;
  const BearerHeader wrong("Bearer another-token");
  EXPECT_EQ(get(router, "/metrics", &wrong).status, 401);
  const BearerHeader right("Bearer admin-token");
  const auto with = get(router, "/metrics", &right);
  EXPECT_EQ(with.status, 200);
  EXPECT_EQ(with.content_type, "text/plain; version=0.0.4");
}

TEST(MetricsHandler, AnswersWithoutATokenByDefault) {
  MetricsHandler open;
  http::Router router;
  router.add(http::Method::kGet, "/metrics", open);
  EXPECT_EQ(get(router, "/metrics").status, 200);
}

}  // namespace
}  // namespace intake::ops
