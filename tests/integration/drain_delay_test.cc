// server.drain_delay_ms against the real binary and the real Kafka: after SIGTERM, /readyz says
// 503 at once, yet for the delay the gateway still takes new connections and records, which
// reach Kafka; then it closes its listeners and exits 0. Without the delay the listeners close
// at once (the drain tests of producer_errors_test.cc).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <string>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "drain-delay-secret";

TEST(DrainDelay, ReadyzFailsWhileRecordsAreStillTakenThenTheListenersClose) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string topic = testing::unique_name("it.drain-delay");
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap;
  yaml.keys.push_back({"drain", kSecret, {"it.*"}});
  yaml.server_fields = {{"drain_delay_ms", "4000"}};
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kSecret}};
  ASSERT_TRUE(testing::eventually(
      [&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/readyz").status == 200; }, 30s));
  std::set<std::string> accepted;
  ASSERT_EQ(testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/" + topic, "before", auth).status, 202);
  accepted.insert("before");

  gateway.send_signal(SIGTERM);
  ASSERT_TRUE(testing::eventually(
      [&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/readyz").status == 503; }, 10s, 5ms))
      << gateway.log_tail();
  // Within the delay: a new connection is taken and its record accepted.
  const auto during = testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/" + topic, "during", auth);
  EXPECT_EQ(during.status, 202) << during.body << gateway.log_tail();
  if (during.status == 202) accepted.insert("during");

  EXPECT_EQ(gateway.wait_exit(), 0) << gateway.log_tail();
  EXPECT_NE(gateway.log_tail(20'000).find("serving 4000 ms more (server.drain_delay_ms)"), std::string::npos)
      << gateway.log_tail();
  // Gone: nothing listens any more.
  const auto after = testing::try_request("127.0.0.1", yaml.port, testing::build_request("GET", "/readyz", "", {}));
  EXPECT_NE(after.fate, testing::RequestFate::kAnswered);
  const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(delivery.consumed, 2u);
}

}  // namespace
}  // namespace intake
