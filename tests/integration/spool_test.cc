// The disk spool through the real gateway with no reachable broker: records are accepted into
// the spool until it is full, then refused with 507 spool_full; /metrics shows it all.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "metrics_text.h"
#include "spool/disk_spool.h"
#include "temp_dir.h"

namespace intake {
namespace {

using namespace std::chrono_literals;

using testing::metric_value;

TEST(Spool, AcceptsWhileKafkaIsUnreachableUntilFullThenAnswers507) {
  testing::TempDir spool("intake-spool-full");
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = "127.0.0.1:" + std::to_string(testing::free_port());  // nothing listens there
  yaml.spool_dir = spool.path();
  yaml.spool_max_bytes = 1024 * 1024;
  yaml.spool_segment_bytes = 64 * 1024;
  yaml.shutdown_flush_ms = 500;
  yaml.keys.push_back({"spool", "spool-secret", {"spool.*"}});
  testing::GatewayProcess gateway(yaml.render(), yaml.port);

  testing::HttpConnection connection("127.0.0.1", yaml.port);
  const std::string body(16 * 1024, 'r');
  int accepted = 0;
  testing::HttpReply refused;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = connection.request("POST", "/v1/topics/spool.full", body, {{"Authorization", "Bearer spool-secret"}});
    if (reply.status == 202) {
      ++accepted;
      continue;
    }
    refused = std::move(reply);
    break;
  }
  ASSERT_EQ(refused.status, 507) << refused.body << gateway.log_tail();
  EXPECT_NE(refused.body.find(R"("code":"spool_full")"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("retry later"), std::string::npos) << refused.body;
  EXPECT_FALSE(refused.header("retry-after").empty());
  // About 1 MiB of 16 KiB records went to disk (a few may sit in the producer's queue too).
  EXPECT_GE(accepted, 50);

  const auto metrics = testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_GE(metric_value(metrics.body, "intake_records_spooled_total"), 50);
  EXPECT_GT(metric_value(metrics.body, "intake_spool_bytes"), 900 * 1024);
  EXPECT_LE(metric_value(metrics.body, "intake_spool_bytes"), 1024 * 1024);
  EXPECT_EQ(metric_value(metrics.body, "intake_ready"), 0);
  EXPECT_EQ(metric_value(metrics.body, "intake_records_lost_total"), 0);
  // Kafka never came: on SIGTERM what the producer held goes to the spool too, nothing is lost:
  // reopened, the spool holds every record that got its 202.
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  spool::SpoolOptions settings;
  settings.dir = spool.path();
  spool::DiskSpool reopened(settings);
  EXPECT_EQ(reopened.stats().recovered, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(reopened.stats().unreadable, 0u);
}

}  // namespace
}  // namespace intake
