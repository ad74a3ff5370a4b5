// The live config plane against the real Consul agent and the real Kafka broker: keys,
// rights and limits changed through Consul reach the request path with no restart; bad
// values are rejected with the last good config kept; outages back off and converge.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consul_fixture.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "metrics_text.h"
#include "peers.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::key_json;

TEST_F(ConsulConfigTest, KeyAddedWithTheConsulCliIsAcceptedAndDeletedKeyGets401) {
  // Another key stays: deleting the only one would leave no keys, which is held.
  consul->put(prefix + "keys/bystander", key_json("bystander-secret", {"it.bystander.*"}));
  start_gateway();
  EXPECT_EQ(post("cli-secret", topic), 401);
  // The operator's way: `consul kv put` with the CLI the scripts built.
  const std::string command = "CONSUL_HTTP_ADDR=" + consul->address() + " " +
                              testing::required_env("INTAKE_CONSUL_BIN") + " kv put " + prefix + "keys/cli-key '" +
                              key_json("cli-secret", {"it.config-*"}) + "' >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  EXPECT_TRUE(eventually([&] { return post("cli-secret", topic) == 202; }));
  consul->remove(prefix + "keys/cli-key");
  EXPECT_TRUE(eventually([&] { return post("cli-secret", topic) == 401; }));
}

TEST_F(ConsulConfigTest, ChangedTopicRightsAreEnforced) {
  start_gateway();
  const std::string other = testing::unique_name("it.other");
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
  EXPECT_EQ(post("team-secret", other), 403);
  consul->put(prefix + "keys/team", key_json("team-secret", {other}));
  EXPECT_TRUE(eventually([&] { return post("team-secret", other) == 202; }));
  EXPECT_EQ(post("team-secret", topic), 403);
}

TEST_F(ConsulConfigTest, DisablingAKeyGets403AndTopicPoliciesLimitRecordSize) {
  start_gateway();
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  consul->put(prefix + "topics/" + topic, R"({"max_record_bytes":10})");
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic, "small") == 202; }));
  // The two puts may reach the gateway as two versions: wait for the one with the policy.
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic, "a record over ten bytes") == 413; }));
  EXPECT_EQ(post("team-secret", topic, "small"), 202);
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}, R"(,"enabled":false)"));
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic, "small") == 403; }));
}

// A deleted prefix answers a valid, empty tree: applying it would refuse every client. It is
// held: the old key keeps being accepted and delivered, /admin/config and /metrics say so, and
// keys put back end the hold.
TEST_F(ConsulConfigTest, DeletingTheWholePrefixIsHeldAndTheOldKeyStillDelivers) {
  start_gateway();
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
  EXPECT_EQ(testing::metric_value(metrics(), "intake_config_empty_tree_held"), 0);
  consul->remove_prefix(prefix);
  ASSERT_TRUE(eventually([&] { return admin_config().find(R"("held":{"source":"consul")") != std::string::npos; }))
      << admin_config();
  const std::string state = admin_config();
  EXPECT_NE(state.find("would remove all 1 API keys"), std::string::npos) << state;
  EXPECT_NE(state.find(R"("since":")"), std::string::npos) << state;
  EXPECT_NE(state.find(R"("last_rejected":null)"), std::string::npos) << state;
  EXPECT_NE(state.find(R"("id":"team")"), std::string::npos) << state;  // still in force
  const std::string exposition = metrics();
  EXPECT_EQ(testing::metric_value(exposition, "intake_config_empty_tree_held"), 1) << exposition;
  EXPECT_GE(testing::metric_value(exposition, "intake_config_empty_tree_held_total"), 1) << exposition;
  EXPECT_EQ(testing::metric_value(exposition, "intake_config_keys"), 1) << exposition;

  std::set<std::string> accepted;
  for (int i = 0; i < 5; ++i) {
    const std::string value = "while-held-" + std::to_string(i);
    EXPECT_EQ(post("team-secret", topic, value), 202);
    accepted.insert(value);
  }
  const auto delivery = testing::count_delivery(testing::required_env("INTAKE_KAFKA_BOOTSTRAP"), topic, accepted);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_NE(gateway->log_tail(20'000).find("held update from consul"), std::string::npos);

  consul->put(prefix + "keys/other", key_json("other-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return post("other-secret", topic) == 202; }));
  EXPECT_EQ(post("team-secret", topic), 401);  // the registry's keys apply again
  EXPECT_NE(admin_config().find(R"("held":null)"), std::string::npos) << admin_config();
  EXPECT_EQ(testing::metric_value(metrics(), "intake_config_empty_tree_held"), 0);
}

TEST_F(ConsulConfigTest, WithAllowEmptyTreeDeletingTheWholePrefixMeansNoKeysAndRecreatingWorks) {
  config_fields = {{"allow_empty_tree", "true"}};
  start_gateway();
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
  consul->remove_prefix(prefix);
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic) == 401; }));
  const std::string state = admin_config();
  EXPECT_NE(state.find(R"("last_rejected":null,"held":null)"), std::string::npos) << state;
  EXPECT_NE(state.find(R"("keys":[])"), std::string::npos) << state;
  EXPECT_EQ(testing::metric_value(metrics(), "intake_config_empty_tree_held"), 0);
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
}

TEST_F(ConsulConfigTest, MalformedValueIsRejectedTheLastGoodConfigServesAndAFixApplies) {
  start_gateway();
  consul->put(prefix + "keys/good", key_json("good-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("good-secret", topic) == 202; }));
  consul->put(prefix + "keys/broken", R"({"secret_sha256": "not even close")");
  ASSERT_TRUE(eventually([&] { return admin_config().find(prefix + "keys/broken") != std::string::npos; }))
      << admin_config();
  const std::string state = admin_config();
  EXPECT_NE(state.find(R"("last_rejected":{)"), std::string::npos) << state;
  EXPECT_NE(state.find("not valid JSON"), std::string::npos) << state;
  EXPECT_EQ(post("good-secret", topic), 202);  // last good config still in force
  EXPECT_EQ(post("broken-secret", topic), 401);
  consul->put(prefix + "keys/broken", key_json("broken-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return post("broken-secret", topic) == 202; }));
  EXPECT_EQ(post("good-secret", topic), 202);
}

TEST_F(ConsulConfigTest, SigtermDuringALongPollExitsPromptly) {
  // Both watchers parked in 5-minute blocking queries: the KV prefix and the broker service.
  const std::string service = testing::unique_name("it-sigterm-kafka");
  consul->register_service(service + "-1", service,
                           testing::parse_host_port(testing::required_env("INTAKE_KAFKA_BOOTSTRAP")).second);
  consul->put(prefix + "keys/team", key_json("team-secret", {topic}));
  start_gateway(/*wait_ms=*/300'000, service);
  ASSERT_TRUE(eventually([&] { return post("team-secret", topic) == 202; }));
  // Each watcher's first request returns at once; the second is the blocking one.
  ASSERT_TRUE(eventually([&] { return watch_counter("consul_kv", "requests") >= 2; })) << admin_config();
  ASSERT_TRUE(eventually([&] { return watch_counter("consul_health", "requests") >= 2; })) << admin_config();
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto took = std::chrono::steady_clock::now() - before;
  consul->deregister_service(service + "-1");
  // The gateway logs how long cancelling its watchers took, apart from the Kafka drain.
  const std::string log = gateway->log_tail(20'000);
  const auto at = log.find("2 watchers stopped in ");
  ASSERT_NE(at, std::string::npos) << log;
  const long watchers_ms = std::stol(log.substr(at + std::string("2 watchers stopped in ").size()));
  std::printf("sigterm: watchers stopped in %ld ms, process exited %lld ms after the signal\n", watchers_ms,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(watchers_ms, 1000) << log;
  // Plus the drain of one record: far below the 300 s polls it cancelled.
  EXPECT_LT(took, 3s) << log;
}

// Two registry entries decide one request: the key's rights (keys/k) and the topic's size
// limit (topics/<t>). Version A lets the key write 100-byte records to topic A; version B
// forbids topic A and caps it at 5 bytes. A request sees 202 (A) or 403 (B); a 413 could only
// come from B's limit combined with A's rights — a torn config.
TEST_F(ConsulConfigTest, ConfigFlippedThousandsOfTimesIsNeverSeenTorn) {
  start_gateway();
  const std::string topic_a = topic + "-a", topic_b = topic + "-b";
  auto version = [&](bool a) {
    const std::string allowed = a ? topic_a : topic_b;
    const std::string key = key_json("flip-secret", {allowed});
    const std::string limit_a = a ? R"({"max_record_bytes":1000})" : R"({"max_record_bytes":5})";
    const std::string limit_b = a ? R"({"max_record_bytes":5})" : R"({"max_record_bytes":1000})";
    auto op = [&](const std::string& k, const std::string& v) {
      return R"({"KV":{"Verb":"set","Key":")" + prefix + k + R"(","Value":")" + testing::to_base64(v) + R"("}})";
    };
    return "[" + op("keys/k", key) + "," + op("topics/" + topic_a, limit_a) + "," + op("topics/" + topic_b, limit_b) +
           "]";
  };
  consul->transaction(version(true));
  ASSERT_TRUE(eventually([&] { return post("flip-secret", topic_a, std::string(100, 'x')) == 202; }));

  std::atomic<bool> flipping{true};
  std::atomic<int> accepted{0}, forbidden{0}, torn{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      try {
        testing::HttpConnection connection("127.0.0.1", gateway->port());
        const std::string body(100, 'x');
        // Bounded so the test's load (each 202 is a record for Kafka) stays modest.
        for (int sent = 0; flipping.load() && sent < 20'000; ++sent) {
          const int status =
              connection.request("POST", "/v1/topics/" + topic_a, body, {{"Authorization", "Bearer flip-secret"}})
                  .status;
          (status == 202 ? accepted : status == 403 ? forbidden : status == 413 ? torn : other)++;
        }
      } catch (const std::exception&) {
        ++other;
      }
    });
  }
  constexpr int kFlips = 2000;
  std::string flip_error;
  try {
    for (int i = 1; i <= kFlips; ++i) consul->transaction(version(i % 2 == 0));
  } catch (const std::exception& e) {
    flip_error = e.what();
  }
  // The clients (unless their bound stopped them first) send until the gateway's KV watcher
  // has seen the last flip.
  const std::string last_index = consul->get("/v1/kv/" + prefix + "?recurse=true").header("x-consul-index");
  EXPECT_TRUE(eventually([&] { return watch_revision("consul_kv") == last_index; }, 30s))
      << last_index << " " << admin_config();
  flipping = false;
  for (auto& client : clients) client.join();
  ASSERT_EQ(flip_error, "");
  std::printf("flips=%d accepted=%d forbidden=%d torn=%d other=%d\n", kFlips, accepted.load(), forbidden.load(),
              torn.load(), other.load());
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(accepted.load(), 0);
  EXPECT_GT(forbidden.load(), 0);  // the flips did reach the request path
}

// on_unreachable_at_start: use_file — Consul cannot be reached at start, so the YAML's own
// keys serve until it can; the source keeps retrying meanwhile.
TEST(ConsulStartup, UnreachableConsulAtStartServesTheYamlKeysWithUseFile) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  yaml.consul_address = "http://127.0.0.1:" + std::to_string(testing::free_port());  // nothing listens there
  yaml.wait_for_registry = false;
  yaml.keys.push_back({"bootstrap", "yaml-secret", {"it.yaml.*"}});
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const auto reply = testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/it.yaml.a", "from-yaml",
                                           {{"Authorization", "Bearer yaml-secret"}});
  EXPECT_EQ(reply.status, 202) << reply.body;
  const auto admin = testing::http_request("127.0.0.1", yaml.port, "GET", "/admin/config", "",
                                           {{"Authorization", std::string("Bearer ") + testing::kAdminToken}});
  EXPECT_NE(admin.body.find(R"("source":"file:)"), std::string::npos) << admin.body;
  EXPECT_TRUE(eventually([&] {
    return testing::http_request("127.0.0.1", yaml.port, "GET", "/admin/config", "",
                                 {{"Authorization", std::string("Bearer ") + testing::kAdminToken}})
               .body.find(R"("errors":0)") == std::string::npos;
  })) << "the Consul watcher reports its failed attempts";
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
