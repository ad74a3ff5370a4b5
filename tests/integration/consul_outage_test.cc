// Consul outages against the real agent. These stop and restart the shared Consul, so ctest
// runs them alone (RUN_SERIAL in tests/CMakeLists.txt).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>

#include "consul_fixture.h"
#include "eventually.h"
#include "kafka_reader.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::key_json;

// A dev agent keeps no data, so the restart also sends the index backwards.
TEST_F(ConsulConfigTest, ConsulDownBacksOffAndAfterARestartWithFreshDataConverges) {
  start_gateway(/*wait_ms=*/2'000);
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
  const std::string script = std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/consul.sh";
  ASSERT_EQ(std::system(("bash " + script + " stop >/dev/null 2>&1").c_str()), 0);
  const auto requests_before = kv_watch_counter("requests");
  std::this_thread::sleep_for(10s);
  const auto requests_during = kv_watch_counter("requests") - requests_before;
  const auto errors = kv_watch_counter("errors");
  std::printf("consul down 10 s: %llu requests, %llu errors\n", static_cast<unsigned long long>(requests_during),
              static_cast<unsigned long long>(errors));
  // Backoff 250 ms doubling to 30 s: about 6 attempts in 10 s. A spinning watcher makes thousands.
  EXPECT_LE(requests_during, 12u);
  EXPECT_GE(errors, 3u);
  EXPECT_EQ(post("team-secret", topic), 202);  // the last good config keeps serving meanwhile

  ASSERT_EQ(std::system(("bash " + script + " start >/dev/null 2>&1").c_str()), 0);
  // Fresh data: the prefix is empty and Consul's index starts again from a low number. An answer
  // that would remove every key is held (config.allow_empty_tree is off): the key keeps serving.
  EXPECT_TRUE(
      eventually([&] { return metrics().find("\nintake_config_empty_tree_held 1\n") != std::string::npos; }, 45s));
  EXPECT_EQ(post("team-secret", topic), 202);
  // A real tree after the restart's low index applies: the old key goes, the new one serves.
  consul->put(prefix + "keys/other", key_json("other-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic) == 401; }, 15s));
  EXPECT_EQ(post("other-secret", topic), 202);
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }, 15s));
}

// Moves production from one Kafka cluster to another while records flow: the first broker is
// deregistered and a second one (started by the scripts on its own ports) registered. Every
// record that got a 202 must be found in one of the two clusters.
TEST_F(ConsulConfigTest, BrokerSetReplacedUnderLoadLosesNoAcceptedRecord) {
  const std::string bootstrap1 = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string script = std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/kafka.sh";
  const std::string kafka2_env = "KAFKA_INSTANCE=kafka2 KAFKA_PORT=19094 KAFKA_CONTROLLER_PORT=19095";
  ASSERT_EQ(std::system((kafka2_env + " bash " + script + " start >/dev/null 2>&1").c_str()), 0);
  const std::string bootstrap2 = "127.0.0.1:19094";
  const std::string service = testing::unique_name("it-kafka-move");

  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap1;
  yaml.consul_address = consul->address();
  yaml.consul_prefix = prefix;
  yaml.broker_service = service;
  yaml.drain_grace_ms = 3'000;
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  consul->register_service(service + "-1", service, testing::parse_host_port(bootstrap1).second);
  gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic, "warm-up") == 202; }, 30s));

  std::set<std::string> accepted;
  int sent = 0;
  testing::HttpConnection connection("127.0.0.1", gateway->port());
  auto send = [&](int count) {
    for (int i = 0; i < count; ++i, ++sent) {
      const std::string value = "move-id-" + std::to_string(sent);
      const auto reply =
          connection.request("POST", "/v1/topics/" + topic, value, {{"Authorization", "Bearer team-secret"}});
      if (reply.status == 202) accepted.insert(value);
    }
  };
  send(300);
  // Wait until the first cluster really holds those records, so the move starts with data on
  // both sides of it (otherwise everything might still sit in the old producer's queue).
  std::size_t on_first = 0;
  testing::consume_topic(
      bootstrap1, topic, [&](const auto& so_far) { return (on_first = so_far.size()) >= accepted.size(); }, 30s);
  ASSERT_GE(on_first, accepted.size());
  // The first broker leaves, then its replacement is announced: the gateway keeps the old
  // producer while the registry lists none, then moves to the new one.
  consul->deregister_service(service + "-1");
  send(50);
  consul->register_service(service + "-2", service, 19094);
  // Keep sending while the gateway switches producers.
  const auto switch_deadline = std::chrono::steady_clock::now() + 30s;
  while (admin_config().find(R"("producer":["127.0.0.1:19094"])") == std::string::npos &&
         std::chrono::steady_clock::now() < switch_deadline) {
    send(20);
  }
  ASSERT_NE(admin_config().find(R"("producer":["127.0.0.1:19094"])"), std::string::npos) << gateway->log_tail();
  send(300);

  auto values_in = [&](const std::string& bootstrap, const std::set<std::string>& already,
                       std::chrono::seconds deadline) {
    std::set<std::string> values;
    // Stop once the two clusters together hold every accepted value (or at the deadline).
    testing::consume_topic(
        bootstrap, topic,
        [&](const auto& so_far) {
          for (const auto& record : so_far) values.insert(record.value);
          for (const auto& value : accepted) {
            if (!values.count(value) && !already.count(value)) return false;
          }
          return true;
        },
        deadline);
    return values;
  };
  // Production to the first cluster ended before the switch, so a short read collects it.
  const auto in1 = values_in(bootstrap1, {}, 8s);
  const auto in2 = values_in(bootstrap2, in1, 30s);
  std::size_t lost = 0, in_both = 0;
  for (const auto& value : accepted) {
    const bool found1 = in1.count(value) > 0, found2 = in2.count(value) > 0;
    lost += (found1 || found2) ? 0 : 1;
    in_both += (found1 && found2) ? 1 : 0;
  }
  std::printf("broker move: sent=%d accepted=%zu in_kafka1=%zu in_kafka2=%zu lost=%zu in_both=%zu\n", sent,
              accepted.size(), in1.size(), in2.size(), lost, in_both);
  EXPECT_EQ(lost, 0u) << gateway->log_tail();
  EXPECT_GT(in2.size(), 0u);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  consul->deregister_service(service + "-2");
  std::system((kafka2_env + " bash " + script + " stop >/dev/null 2>&1").c_str());
}

}  // namespace
}  // namespace intake
