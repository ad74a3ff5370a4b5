// /metrics read by the real Prometheus text parser: the real binary against the real Kafka is
// scraped, sent known traffic (accepted records, a sync record, a 401, a 404), its records are
// consumed back from Kafka, and it is scraped again; tests/metrics/check_metrics.py (with
// prometheus_client, installed by tests/metrics/run_check.sh) parses both scrapes and checks
// that request counts, latency histograms, records accepted by topic and produce latencies
// moved by exactly that traffic.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "crypto/digest.h"
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

constexpr const char* kSecret = "metrics-it-secret";

std::string scrape(std::uint16_t port) {
  const auto reply = testing::http_request("127.0.0.1", port, "GET", "/metrics");
  EXPECT_EQ(reply.status, 200) << reply.body;
  return reply.body;
}

void save(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string quoted(const std::string& arg) { return "'" + arg + "'"; }

TEST(MetricsExposition, PrometheusParserSeesTheTrafficCountedExactly) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  const std::string topic = testing::unique_name("it.metrics");
  const std::string config = "server: {listen: \"127.0.0.1:" + std::to_string(port) +
                             "\", threads: 2}\n"
                             "kafka: {bootstrap_servers: \"" +
                             bootstrap +
                             "\", shutdown_flush_ms: 20000}\n"
                             "metrics: {topics: [\"it.metrics*\"], max_topics: 5}\n"
                             "keys:\n  m: {secret_sha256: " +
                             crypto::to_hex(crypto::sha256(kSecret)) + ", topics: [\"it.*\"]}\n";
  testing::GatewayProcess gateway(config, port);
  testing::TempDir dir;

  // The producer must reach Kafka before the first record is accepted.
  ASSERT_TRUE(
      testing::eventually([&] { return testing::http_request("127.0.0.1", port, "GET", "/readyz").status == 200; },
                          std::chrono::seconds(30)));
  const std::string before = scrape(port);

  const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kSecret}};
  testing::HttpConnection connection("127.0.0.1", port);
  std::size_t bytes = 0;
  constexpr int kAsync = 5;
  for (int i = 0; i < kAsync; ++i) {
    const std::string value = R"({"n":)" + std::to_string(i) + "}";
    bytes += value.size();
    EXPECT_EQ(connection.request("POST", "/v1/topics/" + topic, value, auth).status, 202);
  }
  auto sync_headers = auth;
  sync_headers.emplace_back("X-Intake-Sync", "true");
  const std::string sync_value = R"({"n":"sync"})";
  bytes += sync_value.size();
  const auto sync = connection.request("POST", "/v1/topics/" + topic, sync_value, sync_headers);
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(connection.request("POST", "/v1/topics/" + topic, "{}", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(connection.request("GET", "/no/such/route", "", {}).status, 404);

  const auto records = testing::consume_topic(
      bootstrap, topic, [](const auto& got) { return got.size() >= kAsync + 1; }, std::chrono::seconds(60));
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kAsync + 1));
  // Kafka has them; the delivery reports reach the gateway's counters right after.
  const double delivered_before = testing::metric_value(before, "intake_records_delivered_total");
  std::string after;
  ASSERT_TRUE(testing::eventually([&] {
    after = scrape(port);
    return testing::metric_value(after, "intake_records_delivered_total") >= delivered_before + kAsync + 1;
  }));

  save(dir.path() + "/before.txt", before);
  save(dir.path() + "/after.txt", after);
  const std::string route = "/v1/topics/{topic}";
  const std::string command =
      "bash " + quoted(std::string(INTAKE_SOURCE_DIR) + "/tests/metrics/run_check.sh") + " " +
      quoted(dir.path() + "/before.txt") + " " + quoted(dir.path() + "/after.txt") + " --topic " + quoted(topic) +
      " --accepted " + std::to_string(kAsync + 1) + " --accepted-bytes " + std::to_string(bytes) + " --delivered " +
      std::to_string(kAsync + 1) + " --requests " + quoted(route + "|202|" + std::to_string(kAsync)) + " --requests " +
      quoted(route + "|200|1") + " --requests " + quoted(route + "|401|1") + " --requests " +
      quoted("unmatched|404|1") + " --timed " + quoted(route + "|" + std::to_string(kAsync + 2)) + " --timed " +
      quoted("unmatched|1") + " > " + quoted(dir.path() + "/check.log") + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log(dir.path() + "/check.log");
  const std::string output((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output << "\n--- after ---\n" << after;

  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
