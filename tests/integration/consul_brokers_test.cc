// Kafka brokers learned live from Consul's health API, against the real agent and broker:
// a gateway whose YAML names a dead broker starts producing once Consul announces a live one.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "consul_fixture.h"
#include "eventually.h"
#include "kafka_reader.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::key_json;

// Starts a gateway whose YAML names a dead broker, checks it refuses records (503), runs
// `announce` (which tells Consul about the live broker), then proves every record that got a
// 202 — before the first 503 and after the announcement — is in Kafka, and none that did not.
class BrokerDiscoveryTest : public ConsulConfigTest {
 protected:
  void expect_records_flow_after(const std::function<void()>& announce, const std::string& broker_service) {
    const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = "127.0.0.1:" + std::to_string(testing::free_port());  // nothing listens there
    yaml.consul_address = consul->address();
    yaml.consul_prefix = prefix;
    yaml.broker_service = broker_service;
    consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);

    // Every 202 counts, from the very first request: one answered before librdkafka has
    // concluded that the broker is dead must reach Kafka too, once Consul names a live one.
    std::set<std::string> accepted;
    int next_id = 0;
    auto post_tracked = [&] {
      const std::string value = "broker-id-" + std::to_string(next_id++);
      const int status = post("team-secret", topic, value);
      if (status == 202) accepted.insert(value);
      return status;
    };
    // With only the dead broker, records are refused, not accepted and lost.
    ASSERT_TRUE(eventually([&] { return post_tracked() == 503; }));
    const std::size_t accepted_before_refusal = accepted.size();
    announce();
    ASSERT_TRUE(eventually([&] { return post_tracked() == 202; }, 30s)) << gateway->log_tail();
    for (int i = 0; i < 200; ++i) EXPECT_EQ(post_tracked(), 202);
    EXPECT_GE(accepted.size(), 201u);
    const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
    const std::size_t lost = delivery.lost;
    std::printf("dead bootstrap: 202s before the first 503=%zu\n", accepted_before_refusal);
    std::printf("dead bootstrap: accepted=%zu consumed=%zu lost=%zu duplicated=%zu\n", accepted.size(),
                delivery.consumed, lost, delivery.duplicated);
    EXPECT_EQ(delivery.unexpected, 0u);
    EXPECT_EQ(lost, 0u);
  }
};

TEST_F(BrokerDiscoveryTest, DeadBootstrapBrokerIsReplacedByTheOneConsulHealthAnnounces) {
  const auto kafka_port = testing::parse_host_port(testing::required_env("INTAKE_KAFKA_BOOTSTRAP")).second;
  const std::string service = testing::unique_name("it-kafka");
  expect_records_flow_after([&] { consul->register_service(service + "-1", service, kafka_port); }, service);
  consul->deregister_service(service + "-1");
}

// The seed's layout: one KV key per broker, named host:port, with no value.
TEST_F(BrokerDiscoveryTest, DeadBootstrapBrokerIsReplacedByABrokerKeyWithANullValue) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  expect_records_flow_after([&] { consul->put(prefix + "brokers/" + bootstrap, ""); }, "");
}

}  // namespace
}  // namespace intake
