// Records Kafka will never take, through the real gateway and the real broker: a partition the
// topic does not have, a topic that does not exist. Each is refused with its own code once the
// gateway knows (metadata), quarantined when it was accepted before that, and never blocks the
// records behind it — in both spool modes and after a restart with the poison already on disk.
// Delivery is proven by reading every partition to its end: no loss, no duplicate.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "metrics_text.h"
#include "peers.h"
#include "temp_dir.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::metric_value;

constexpr const char* kSecret = "poison-secret";
const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", std::string("Bearer ") + kSecret}};

std::vector<std::pair<std::string, std::string>> to_partition(const std::string& partition) {
  auto headers = kAuth;
  headers.emplace_back("X-Intake-Partition", partition);
  return headers;
}

double gateway_metric(std::uint16_t port, const std::string& name) {
  return metric_value(testing::http_request("127.0.0.1", port, "GET", "/metrics").body, name);
}

testing::GatewayYaml poison_yaml(const std::string& bootstrap, const std::string& spool_dir, const std::string& mode) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap;
  yaml.spool_dir = spool_dir;
  yaml.spool_mode = mode;
  yaml.shutdown_flush_ms = 2000;
  yaml.keys.push_back({"poison", kSecret, {"poison.*"}});
  return yaml;
}

class PoisonPartition : public ::testing::TestWithParam<std::string> {};

TEST_P(PoisonPartition, IsRefusedOrQuarantinedAndEveryRecordBehindItReachesKafka) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-poison");
  const auto yaml = poison_yaml(bootstrap, spool.path(), GetParam());
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::string topic = testing::unique_name("poison.partition");  // auto-created, 3 partitions
  const std::string path = "/v1/topics/" + topic;
  testing::HttpConnection connection("127.0.0.1", yaml.port);

  // The poison comes first, before the gateway has the topic's metadata: its one chance of a
  // 202. Then good records with poison among them, until the gateway refuses poison up front.
  int poison_accepted = 0, poison_refused = 0;
  std::set<std::string> accepted;
  std::string refusal;
  auto send_poison = [&](const std::string& id) {
    const auto reply = connection.request("POST", path, id, to_partition("9999"));
    if (reply.status == 202) {
      ++poison_accepted;
    } else {
      ASSERT_EQ(reply.status, 404) << reply.body;
      ++poison_refused;
      refusal = reply.body;
    }
  };
  send_poison("poison-first");
  for (int i = 0; i < 300; ++i) {
    const std::string id = "good-" + std::to_string(i);
    const auto reply = connection.request("POST", path, id, i % 3 == 0 ? to_partition(std::to_string(i % 3)) : kAuth);
    ASSERT_EQ(reply.status, 202) << reply.body << gateway.log_tail();
    accepted.insert(id);
    if (i % 20 == 10) send_poison("poison-" + std::to_string(i));
  }
  // Once metadata is in (the gateway refreshes it soon after a new topic), poison is refused.
  ASSERT_TRUE(eventually(
      [&] {
        send_poison("poison-late");
        return poison_refused > 0;
      },
      15s, 200ms))
      << gateway.log_tail();
  EXPECT_NE(refusal.find(R"("code":"partition_not_found")"), std::string::npos) << refusal;
  EXPECT_NE(refusal.find("has 3 partitions (0-2); partition 9999 does not exist"), std::string::npos) << refusal;
  for (int i = 300; i < 400; ++i) {
    const std::string id = "good-" + std::to_string(i);
    const auto reply = connection.request("POST", path, id, kAuth);
    ASSERT_EQ(reply.status, 202) << reply.body;
    accepted.insert(id);
  }

  // Every poison that got a 202 is quarantined, never retried; the rest all reach Kafka.
  EXPECT_TRUE(
      eventually([&] { return gateway_metric(yaml.port, "intake_records_quarantined_total") == poison_accepted; }, 30s))
      << gateway.log_tail();
  const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
  std::printf(
      "[ poison %s ] good accepted %zu, poison 202 %d (quarantined), poison 404 %d; lost %zu, "
      "duplicated %zu, unexpected %zu\n",
      GetParam().c_str(), accepted.size(), poison_accepted, poison_refused, delivery.lost, delivery.duplicated,
      delivery.unexpected);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(delivery.duplicated, 0u);
  EXPECT_EQ(delivery.unexpected, 0u);  // no poison in Kafka
  EXPECT_EQ(gateway_metric(yaml.port, "intake_records_lost_total"), 0);
  EXPECT_EQ(gateway_metric(yaml.port, "intake_spool_waiting_records"), 0);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

INSTANTIATE_TEST_SUITE_P(SpoolModes, PoisonPartition, ::testing::Values("fallback", "write_ahead"));

TEST(PoisonRecord, OnDiskAtStartIsQuarantinedAndTheRecordsBehindItAreDelivered) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-poison-restart");
  const std::string topic = testing::unique_name("poison.restart");
  const std::string path = "/v1/topics/" + topic;
  std::set<std::string> accepted;
  {
    // First life: no broker, so everything waits in the write-ahead spool, poison first.
    auto yaml = poison_yaml("127.0.0.1:" + std::to_string(testing::free_port()), spool.path(), "write_ahead");
    yaml.shutdown_flush_ms = 500;
    testing::GatewayProcess gateway(yaml.render(), yaml.port);
    testing::HttpConnection connection("127.0.0.1", yaml.port);
    const auto poison = connection.request("POST", path, "poison", to_partition("9999"));
    ASSERT_EQ(poison.status, 202) << poison.body;  // nothing can know yet that it is poison
    for (int i = 0; i < 50; ++i) {
      const std::string id = "after-" + std::to_string(i);
      const auto reply = connection.request("POST", path, id, kAuth);
      ASSERT_EQ(reply.status, 202) << reply.body;
      accepted.insert(id);
    }
    ASSERT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  }
  // Second life, with the broker: the poison is at the head of the spool.
  const auto yaml = poison_yaml(bootstrap, spool.path(), "write_ahead");
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  EXPECT_EQ(gateway_metric(yaml.port, "intake_spool_recovered_records_total"), 51);
  const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
  std::printf("[ poison restart ] accepted %zu + 1 poison; lost %zu, duplicated %zu, unexpected %zu\n", accepted.size(),
              delivery.lost, delivery.duplicated, delivery.unexpected);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(delivery.duplicated, 0u);
  EXPECT_EQ(delivery.unexpected, 0u);
  EXPECT_TRUE(eventually([&] { return gateway_metric(yaml.port, "intake_records_quarantined_total") == 1; }, 30s))
      << gateway.log_tail();
  EXPECT_TRUE(eventually([&] { return gateway_metric(yaml.port, "intake_spool_waiting_records") == 0; }, 30s));
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

TEST(PoisonRecord, WriteAheadRefusesARecordOverMessageMaxBytesBeforeWritingIt) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-too-large");
  auto yaml = poison_yaml(bootstrap, spool.path(), "write_ahead");
  yaml.kafka_properties = {{"message.max.bytes", "10000"}};
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::string topic = testing::unique_name("poison.large");
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  const auto refused = connection.request("POST", "/v1/topics/" + topic, std::string(20'000, 'L'), kAuth);
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_NE(refused.body.find(R"("code":"record_too_large")"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("message.max.bytes"), std::string::npos) << refused.body;
  const auto fits = connection.request("POST", "/v1/topics/" + topic, "small", kAuth);
  EXPECT_EQ(fits.status, 202) << fits.body;
  // Only the small one was written to the spool; nothing was quarantined.
  EXPECT_EQ(gateway_metric(yaml.port, "intake_records_spooled_total"), 1);
  EXPECT_EQ(gateway_metric(yaml.port, "intake_records_quarantined_total"), 0);
  const auto delivery = testing::count_delivery(bootstrap, topic, {"small"});
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(delivery.unexpected, 0u);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

TEST(PoisonRecord, AnUnknownTopicWithAutoCreateOffIsRefusedWith404) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-no-topic");
  auto yaml = poison_yaml(bootstrap, spool.path(), "write_ahead");
  // The cluster creates topics on first write unless the producer asks it not to; a short
  // propagation wait makes librdkafka decide "does not exist" after 1 s instead of 30 s.
  yaml.kafka_properties = {{"allow.auto.create.topics", "false"}, {"topic.metadata.propagation.max.ms", "1000"}};
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::string topic = testing::unique_name("poison.missing");
  testing::HttpConnection connection("127.0.0.1", yaml.port);

  // Sync: Kafka's own answer.
  const auto sync = connection.request("POST", "/v1/topics/" + topic + "?sync=true", "x", kAuth);
  EXPECT_EQ(sync.status, 404) << sync.body << gateway.log_tail();
  EXPECT_NE(sync.body.find(R"("code":"topic_not_found")"), std::string::npos) << sync.body;
  EXPECT_NE(sync.body.find("create it first"), std::string::npos) << sync.body;
  // Async, write-ahead: refused before it is spooled, once the gateway knows the topic is missing.
  int accepted = 0;
  testing::HttpReply refused;
  ASSERT_TRUE(eventually(
      [&] {
        auto reply = connection.request("POST", "/v1/topics/" + topic, "y", kAuth);
        if (reply.status == 202) {
          ++accepted;
          return false;
        }
        refused = std::move(reply);
        return true;
      },
      15s, 200ms));
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_NE(refused.body.find(R"("code":"topic_not_found")"), std::string::npos) << refused.body;
  // Any that slipped in before is quarantined, not retried forever.
  EXPECT_TRUE(eventually(
      [&] {
        return gateway_metric(yaml.port, "intake_records_quarantined_total") == accepted &&
               gateway_metric(yaml.port, "intake_spool_waiting_records") == 0;
      },
      30s))
      << gateway.log_tail();
  std::printf("[ unknown topic ] sync %d, async 202 before the gateway knew: %d (quarantined), then %d\n", sync.status,
              accepted, refused.status);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
