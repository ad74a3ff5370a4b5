// Order through the write-ahead spool, checked in Kafka: records to one partition arrive in the
// order they were accepted, across segment boundaries, and records spooled while Kafka was away
// (replayed by the next gateway) come before the records that gateway accepts afterwards.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

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

constexpr const char* kSecret = "order-secret";

testing::GatewayYaml order_yaml(const std::string& bootstrap, const std::string& spool_dir) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap;
  yaml.spool_dir = spool_dir;
  yaml.spool_mode = "write_ahead";
  yaml.spool_segment_bytes = 64 * 1024;  // the smallest: ~60 records a segment, ten boundaries
  yaml.shutdown_flush_ms = 500;
  yaml.keys.push_back({"order", kSecret, {"order.*"}});
  return yaml;
}

std::string value_of(int i) {
  char id[16];
  std::snprintf(id, sizeof(id), "%05d", i);
  return std::string(id) + "|" + std::string(1000, 'o');
}

void send(std::uint16_t port, const std::string& topic, int from, int to) {
  testing::HttpConnection connection("127.0.0.1", port);
  for (int i = from; i < to; ++i) {
    const auto reply =
        connection.request("POST", "/v1/topics/" + topic, value_of(i),
                           {{"Authorization", std::string("Bearer ") + kSecret}, {"X-Intake-Partition", "0"}});
    ASSERT_EQ(reply.status, 202) << i << ": " << reply.body;
  }
}

TEST(SpoolOrder, OnePartitionKeepsAcceptanceOrderAcrossSegmentsAndARestart) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-spool-order");
  const std::string topic = testing::unique_name("order.spool");
  constexpr int kWhileAway = 300, kAfter = 300;
  {
    // Kafka unreachable: everything waits on disk, in several segments.
    const auto yaml = order_yaml("127.0.0.1:" + std::to_string(testing::free_port()), spool.path());
    testing::GatewayProcess gateway(yaml.render(), yaml.port);
    send(yaml.port, topic, 0, kWhileAway);
    ASSERT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  }
  // The next gateway replays them while it accepts new ones, which queue behind.
  const auto yaml = order_yaml(bootstrap, spool.path());
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  send(yaml.port, topic, kWhileAway, kWhileAway + kAfter);
  // Fed and acknowledged, all of it, before the stop (a stop would leave the rest on disk).
  ASSERT_TRUE(testing::eventually(
      [&] {
        const auto metrics = testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics").body;
        return testing::metric_value(metrics, "intake_spool_waiting_records") == 0 &&
               testing::metric_value(metrics, "intake_records_delivered_total") == kWhileAway + kAfter;
      },
      std::chrono::seconds(60)))
      << gateway.log_tail();
  ASSERT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();

  std::vector<std::string> in_partition;
  for (const auto& record : testing::consume_to_end(bootstrap, topic)) {
    ASSERT_EQ(record.partition, 0);
    in_partition.push_back(record.value);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kWhileAway + kAfter; ++i) expected.push_back(value_of(i));
  std::size_t first_out_of_order = in_partition.size();
  for (std::size_t i = 1; i < in_partition.size(); ++i) {
    if (in_partition[i] < in_partition[i - 1]) {
      first_out_of_order = i;
      break;
    }
  }
  std::printf("[ spool order ] %zu records in partition 0 (expected %zu), first out of order at %zu\n",
              in_partition.size(), expected.size(), first_out_of_order);
  EXPECT_EQ(in_partition, expected);
}

}  // namespace
}  // namespace intake
