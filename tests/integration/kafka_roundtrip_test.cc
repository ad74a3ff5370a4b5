// The walking skeleton end to end: the real `intake` binary against the real Kafka broker.
// 1000 records with distinct ids are POSTed over keep-alive connections and consumed back.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "crypto/digest.h"
#include "gateway_process.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake {
namespace {

constexpr const char* kKeySecret = "roundtrip-secret";

std::string gateway_config(std::uint16_t port, const std::string& bootstrap, const std::string& digest) {
  return "server: {listen: \"127.0.0.1:" + std::to_string(port) + "\", threads: 2}\n" +
         "kafka: {bootstrap_servers: \"" + bootstrap + "\", shutdown_flush_ms: 20000}\n" +
         "keys:\n  roundtrip: {secret_sha256: " + digest + ", topics: [\"it.*\"]}\n";
}

std::string unique_topic(const std::string& prefix) {
  return prefix + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000'000);
}

TEST(KafkaRoundTrip, ThousandRecordsOverKeepAliveArriveExactlyOnce) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string digest = crypto::to_hex(crypto::sha256(kKeySecret));
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_config(port, bootstrap, digest), port);

  const std::string topic = unique_topic("it.roundtrip");
  constexpr int kConnections = 4;
  constexpr int kRecordsPerConnection = 250;
  std::vector<std::thread> senders;
  std::vector<int> accepted(kConnections, 0);
  std::vector<std::string> failures(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    senders.emplace_back([&, c] {
      try {
        testing::HttpConnection connection("127.0.0.1", port);
        for (int i = 0; i < kRecordsPerConnection; ++i) {
          const int id = c * kRecordsPerConnection + i;
          const std::string value =
              R"({"id":)" + std::to_string(id) + R"(,"payload":"value-)" + std::to_string(id) + "\"}";
          const auto reply = connection.request("POST", "/v1/topics/" + topic, value,
                                                {{"Authorization", std::string("Bearer ") + kKeySecret},
                                                 {"X-Intake-Record-Key", "id-" + std::to_string(id)}});
          if (reply.status == 202) {
            ++accepted[c];
          } else if (failures[c].empty()) {
            failures[c] = std::to_string(reply.status) + " " + reply.body;
          }
        }
      } catch (const std::exception& e) {
        failures[c] = e.what();
      }
    });
  }
  for (auto& sender : senders) sender.join();
  for (int c = 0; c < kConnections; ++c) {
    EXPECT_EQ(accepted[c], kRecordsPerConnection) << "connection " << c << ": " << failures[c];
  }

  constexpr std::size_t kTotal = kConnections * kRecordsPerConnection;
  // SIGTERM flushes the producer: after it, every partition's high watermark covers everything
  // the gateway will ever write, so reading to it sees any duplicate too.
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  const auto records = testing::consume_to_end(bootstrap, topic);

  std::map<std::string, int> seen_by_key;
  std::size_t wrong_values = 0;
  for (const auto& record : records) {
    ++seen_by_key[record.key];
    const std::string id = record.key.substr(3);
    if (record.value != R"({"id":)" + id + R"(,"payload":"value-)" + id + "\"}") ++wrong_values;
  }
  std::size_t missing = 0, duplicated = 0;
  for (std::size_t id = 0; id < kTotal; ++id) {
    const auto it = seen_by_key.find("id-" + std::to_string(id));
    if (it == seen_by_key.end()) {
      ++missing;
    } else if (it->second > 1) {
      ++duplicated;
    }
  }
  std::printf("roundtrip: sent=%zu accepted=%d consumed=%zu missing=%zu duplicated=%zu wrong_values=%zu\n", kTotal,
              accepted[0] + accepted[1] + accepted[2] + accepted[3], records.size(), missing, duplicated, wrong_values);
  EXPECT_EQ(records.size(), kTotal);
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(duplicated, 0u);
  EXPECT_EQ(wrong_values, 0u);
  EXPECT_EQ(seen_by_key.size(), kTotal);
}

TEST(KafkaRoundTrip, ErrorsFromTheRealGatewayAreJson) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string digest = crypto::to_hex(crypto::sha256(kKeySecret));
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_config(port, bootstrap, digest), port);
  const auto denied = testing::http_request("127.0.0.1", port, "POST", "/v1/topics/billing", "x",
                                            {{"Authorization", std::string("Bearer ") + kKeySecret}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find(R"("code":"topic_not_allowed")"), std::string::npos);
  EXPECT_EQ(testing::http_request("127.0.0.1", port, "GET", "/readyz").status, 200);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

TEST(KafkaRoundTrip, SyncModeAnswersWithThePartitionAndOffsetKafkaAssigned) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_config(port, bootstrap, crypto::to_hex(crypto::sha256(kKeySecret))) + "",
                                  port);
  const std::string topic = unique_topic("it.sync");
  std::vector<std::pair<int, long long>> positions;
  for (int i = 0; i < 5; ++i) {
    const auto reply = testing::http_request(
        "127.0.0.1", port, "POST", "/v1/topics/" + topic + "?sync=true", "sync-" + std::to_string(i),
        {{"Authorization", std::string("Bearer ") + kKeySecret}, {"X-Intake-Partition", "1"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
    const auto offset_at = reply.body.find(R"("offset":)");
    ASSERT_NE(offset_at, std::string::npos) << reply.body;
    EXPECT_NE(reply.body.find(R"("partition":1)"), std::string::npos) << reply.body;
    positions.emplace_back(1, std::stoll(reply.body.substr(offset_at + 9)));
  }
  EXPECT_EQ(positions.back().second, positions.front().second + 4);  // consecutive in partition 1
  // Each 200 came after Kafka's acknowledgement, so the topic's end covers all five.
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 5u);
  for (const auto& record : records) {
    EXPECT_EQ(record.partition, 1);
    const long long index = record.offset - positions.front().second;
    EXPECT_EQ(record.value, "sync-" + std::to_string(index));
    bool has_key_id = false;
    for (const auto& [name, value] : record.headers) has_key_id |= name == "intake-key-id" && value == "roundtrip";
    EXPECT_TRUE(has_key_id);
  }
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

// NDJSON batches: every line becomes one record with its own key (and partition, when given).
TEST(KafkaRoundTrip, BatchRecordsArriveWithTheirOwnKeysAndPartitions) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_config(port, bootstrap, crypto::to_hex(crypto::sha256(kKeySecret))), port);
  const std::string topic = unique_topic("it.batch");
  testing::HttpConnection connection("127.0.0.1", port);
  constexpr int kBatches = 3, kPerBatch = 100;
  for (int b = 0; b < kBatches; ++b) {
    std::string body;
    for (int i = 0; i < kPerBatch; ++i) {
      const int id = b * kPerBatch + i;
      body += R"({"key":"batch-key-)" + std::to_string(id) + R"(","value":{"id":)" + std::to_string(id) + "}";
      if (id % 10 == 0) body += R"(,"partition":2)";
      body += "}\n";
    }
    const auto reply = connection.request("POST", "/v1/topics/" + topic + "/records", body,
                                          {{"Authorization", std::string("Bearer ") + kKeySecret}});
    ASSERT_EQ(reply.status, 202) << reply.body;
    EXPECT_EQ(reply.body, R"({"accepted":100})");
  }
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();  // flushed: the topic's end is final
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  std::map<std::string, const testing::ConsumedRecord*> by_key;
  for (const auto& record : records) by_key[record.key] = &record;
  ASSERT_EQ(by_key.size(), records.size());  // every key once
  for (int id = 0; id < kBatches * kPerBatch; ++id) {
    const auto* record = by_key["batch-key-" + std::to_string(id)];
    ASSERT_NE(record, nullptr) << id;
    EXPECT_EQ(record->value, R"({"id":)" + std::to_string(id) + "}");
    if (id % 10 == 0) {
      EXPECT_EQ(record->partition, 2) << id;
    }
  }
}

TEST(KafkaRoundTrip, UnreachableKafkaIsReportedNotSwallowed) {
  const std::string digest = crypto::to_hex(crypto::sha256(kKeySecret));
  const std::uint16_t port = testing::free_port();
  const std::uint16_t dead_port = testing::free_port();  // nothing listens there
  testing::GatewayProcess gateway(gateway_config(port, "127.0.0.1:" + std::to_string(dead_port), digest), port);
  // librdkafka needs a moment to conclude that every broker is down.
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 503; ++attempt) {
    status = testing::http_request("127.0.0.1", port, "GET", "/readyz").status;
    if (status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 503);
  const auto reply = testing::http_request("127.0.0.1", port, "POST", "/v1/topics/it.down", "x",
                                           {{"Authorization", std::string("Bearer ") + kKeySecret}});
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find(R"("code":"kafka_unavailable")"), std::string::npos);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
