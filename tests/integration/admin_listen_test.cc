// server.admin_listen and admin.metrics_require_token through the real gateway binary:
// /admin/* and /metrics on their own listener (404 on the public one), the probes on both,
// the token required for /metrics when asked, and a prompt shutdown with both listeners.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "metrics_text.h"
#include "peers.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using Headers = std::vector<std::pair<std::string, std::string>>;

const Headers kAdmin{{"Authorization", std::string("Bearer ") + testing::kAdminToken}};

testing::GatewayYaml yaml_with_a_key(const std::string& topic) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  yaml.keys.push_back({"team", "team-secret", {topic}});
  return yaml;
}

TEST(AdminListen, AdminAndMetricsAnswerOnlyOnTheAdminListenerAndProbesOnBoth) {
  const std::string topic = testing::unique_name("it.admin-listen");
  auto yaml = yaml_with_a_key(topic);
  const std::uint16_t admin_port = testing::free_port();
  yaml.server_fields.push_back({"admin_listen", "\"127.0.0.1:" + std::to_string(admin_port) + "\""});
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const auto on = [&](std::uint16_t port, const std::string& path, const Headers& headers = {}) {
    return testing::http_request("127.0.0.1", port, "GET", path, "", headers);
  };

  for (const std::string path : {"/metrics", "/admin/config"}) {
    const auto reply = on(yaml.port, path, kAdmin);
    EXPECT_EQ(reply.status, 404) << path;
    EXPECT_NE(reply.body.find(R"("code":"not_found")"), std::string::npos) << reply.body;
  }
  const auto scraped = on(admin_port, "/metrics");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_EQ(testing::metric_value(scraped.body, "intake_config_keys"), 1) << scraped.body;
  const auto config = on(admin_port, "/admin/config", kAdmin);
  EXPECT_EQ(config.status, 200);
  EXPECT_NE(config.body.find(R"("id":"team")"), std::string::npos) << config.body;
  for (const std::uint16_t port : {yaml.port, admin_port}) {
    EXPECT_EQ(on(port, "/healthz").status, 200) << port;
    EXPECT_TRUE(eventually([&] { return on(port, "/readyz").status == 200; })) << port;
  }
  // The API is on the public listener only.
  const Headers key{{"Authorization", "Bearer team-secret"}};
  EXPECT_EQ(testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/" + topic, "r", key).status, 202);
  EXPECT_EQ(testing::http_request("127.0.0.1", admin_port, "POST", "/v1/topics/" + topic, "r", key).status, 404);

  // A scraper's idle keep-alive connection does not hold the shutdown back.
  testing::HttpConnection scraper("127.0.0.1", admin_port);
  EXPECT_EQ(scraper.request("GET", "/metrics", "", {}).status, 200);
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 3s) << gateway.log_tail();
  EXPECT_TRUE(scraper.closed_by_peer());
  EXPECT_NE(gateway.log_tail(20'000).find("/admin and /metrics on 127.0.0.1:" + std::to_string(admin_port)),
            std::string::npos);
}

TEST(AdminListen, MetricsRequireTokenRefusesAScrapeWithoutTheAdminToken) {
  auto yaml = yaml_with_a_key(testing::unique_name("it.admin-token"));
  yaml.admin_fields.push_back({"metrics_require_token", "true"});
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const auto without = testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics");
  EXPECT_EQ(without.status, 401);
  EXPECT_NE(without.body.find(R"("code":"invalid_admin_token")"), std::string::npos) << without.body;
  EXPECT_EQ(
      testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics", "", {{"Authorization", "Bearer wrong"}}).status,
      401);
  const auto with = testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics", "", kAdmin);
  EXPECT_EQ(with.status, 200);
  EXPECT_GE(testing::metric_value(with.body, "intake_config_version"), 1) << with.body;
  EXPECT_EQ(testing::http_request("127.0.0.1", yaml.port, "GET", "/healthz").status, 200);  // probes stay open
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
