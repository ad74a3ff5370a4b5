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
// `announce` (which tells Consul about the live broker), then proves 200 records accepted
// afterwards are all in Kafka.
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

    // With only the dead broker, records are refused, not accepted and lost.
    ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 503; }));
    announce();
    ASSERT_TRUE(eventually([&] { return post("team-secret", topic, "warm-up") == 202; }, 30s)) << gateway->log_tail();

    std::set<std::string> accepted;
    testing::HttpConnection connection("127.0.0.1", gateway->port());
    for (int id = 0; id < 200; ++id) {
      const std::string value = "broker-id-" + std::to_string(id);
      if (connection.request("POST", "/v1/topics/" + topic, value, {{"Authorization", "Bearer team-secret"}}).status ==
          202) {
        accepted.insert(value);
      }
    }
    EXPECT_EQ(accepted.size(), 200u);
    std::set<std::string> consumed;
    testing::consume_topic(
        bootstrap, topic,
        [&](const auto& so_far) {
          for (const auto& record : so_far) consumed.insert(record.value);
          for (const auto& value : accepted) {
            if (!consumed.count(value)) return false;
          }
          return true;
        },
        60s);
    std::size_t lost = 0;
    for (const auto& value : accepted) lost += consumed.count(value) ? 0 : 1;
    std::printf("dead bootstrap: accepted=%zu consumed=%zu lost=%zu\n", accepted.size(), consumed.size(), lost);
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
