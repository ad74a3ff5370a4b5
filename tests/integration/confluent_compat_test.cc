// Clients written for the Confluent REST Proxy, against the real binary and the real broker:
// the request bodies are the ones Confluent's v2 API reference and quick start show, the
// answers are checked for the documented shape, and every record is consumed back.
// Also the native JSON-array batch in sync mode with per-record headers.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake {
namespace {

constexpr const char* kSecret = "confluent-secret";
// Confluent clients authenticate with Basic: base64("compat:confluent-secret").
constexpr const char* kBasic = "Basic Y29tcGF0OmNvbmZsdWVudC1zZWNyZXQ=";
// What the Confluent Java and Python clients send.
constexpr const char* kConfluentAccept = "application/vnd.kafka.v2+json, application/vnd.kafka+json, application/json";

class ConfluentCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    yaml.keys.push_back({"compat", kSecret, {"compat.*"}});
    port = yaml.port;
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }

  testing::HttpReply post(const std::string& path, const std::string& content_type, const std::string& body) {
    return testing::http_request(
        "127.0.0.1", port, "POST", path, body,
        {{"Authorization", kBasic}, {"Content-Type", content_type}, {"Accept", kConfluentAccept}});
  }

  // The v2 answer's offsets, checked for the documented shape: {"key_schema_id":null,
  // "value_schema_id":null,"offsets":[{"partition":N,"offset":N,"error_code":null,"error":null}]}.
  std::vector<std::pair<std::int64_t, std::int64_t>> offsets_of(const testing::HttpReply& reply) {
    std::vector<std::pair<std::int64_t, std::int64_t>> offsets;
    EXPECT_EQ(reply.header("content-type"), "application/vnd.kafka.v2+json");
    simdjson::dom::element root;
    if (parser.parse(reply.body).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << reply.body;
      return offsets;
    }
    EXPECT_TRUE(root["key_schema_id"].is_null()) << reply.body;
    EXPECT_TRUE(root["value_schema_id"].is_null()) << reply.body;
    simdjson::dom::array array;
    if (root["offsets"].get_array().get(array) != simdjson::SUCCESS) {
      ADD_FAILURE() << "no offsets array: " << reply.body;
      return offsets;
    }
    for (simdjson::dom::element entry : array) {
      std::int64_t partition = -1, offset = -1;
      EXPECT_EQ(entry["partition"].get_int64().get(partition), simdjson::SUCCESS) << reply.body;
      EXPECT_EQ(entry["offset"].get_int64().get(offset), simdjson::SUCCESS) << reply.body;
      EXPECT_TRUE(entry["error_code"].is_null()) << reply.body;
      EXPECT_TRUE(entry["error"].is_null()) << reply.body;
      offsets.emplace_back(partition, offset);
    }
    return offsets;
  }

  // The record Kafka holds at (partition, offset).
  static const testing::ConsumedRecord* at(const std::vector<testing::ConsumedRecord>& records,
                                           std::pair<std::int64_t, std::int64_t> position) {
    for (const auto& record : records) {
      if (record.partition == position.first && record.offset == position.second) return &record;
    }
    return nullptr;
  }

  std::string bootstrap;
  std::uint16_t port = 0;
  std::unique_ptr<testing::GatewayProcess> gateway;
  simdjson::dom::parser parser;
};

TEST_F(ConfluentCompat, V2JsonRecordsFromTheApiReferenceArriveAsTheirJson) {
  const std::string topic = testing::unique_name("compat.v2json");
  // The body of Confluent's v2 reference example for POST /topics/{topic_name} (JSON).
  const std::string body = R"({
  "records": [
    {
      "key": "somekey",
      "value": {"foo": "bar"}
    },
    {
      "value": [ "foo", "bar" ],
      "partition": 1
    },
    {
      "value": 53.5
    }
  ]
})";
  const auto reply = post("/topics/" + topic, "application/vnd.kafka.json.v2+json", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto offsets = offsets_of(reply);
  ASSERT_EQ(offsets.size(), 3u);
  EXPECT_EQ(offsets[1].first, 1);

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 3u);
  const auto* first = at(records, offsets[0]);
  const auto* second = at(records, offsets[1]);
  const auto* third = at(records, offsets[2]);
  ASSERT_TRUE(first && second && third);
  // The JSON embedded format: key and value are written as JSON text, as the proxy writes them.
  EXPECT_EQ(first->key, R"("somekey")");
  EXPECT_EQ(first->value, R"({"foo":"bar"})");
  EXPECT_EQ(second->value, R"(["foo","bar"])");
  EXPECT_TRUE(second->key.empty());
  EXPECT_EQ(third->value, "53.5");
}

TEST_F(ConfluentCompat, V2QuickStartCurlWorksAsShown) {
  const std::string topic = testing::unique_name("compat.quickstart");
  // curl -X POST -H "Content-Type: application/vnd.kafka.json.v2+json"
  //      --data '{"records":[{"value":{"foo":"bar"}}]}' "http://localhost:8082/topics/jsontest"
  const auto reply =
      post("/topics/" + topic, "application/vnd.kafka.json.v2+json", R"({"records":[{"value":{"foo":"bar"}}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_EQ(offsets_of(reply).size(), 1u);
  EXPECT_EQ(reply.body.find(R"({"key_schema_id":null,"value_schema_id":null,"offsets":[{"partition":)"), 0u)
      << reply.body;
}

TEST_F(ConfluentCompat, V2BinaryRecordsArriveAsTheBytesTheirBase64Encodes) {
  const std::string topic = testing::unique_name("compat.v2binary");
  // The body of Confluent's v2 reference example for POST /topics/{topic_name} (binary).
  const std::string body = R"({
  "records": [
    {
      "key": "a2V5",
      "value": "Y29uZmx1ZW50"
    },
    {
      "value": "a2Fma2E=",
      "partition": 1
    },
    {
      "value": "bG9ncw=="
    }
  ]
})";
  const auto reply = post("/topics/" + topic, "application/vnd.kafka.binary.v2+json", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto offsets = offsets_of(reply);
  ASSERT_EQ(offsets.size(), 3u);
  EXPECT_EQ(offsets[1].first, 1);
  // And one to a partition named in the path.
  const auto to_partition = post("/topics/" + topic + "/partitions/2", "application/vnd.kafka.binary.v2+json",
                                 R"({"records":[{"value":"cGFydGl0aW9uZWQ="}]})");
  ASSERT_EQ(to_partition.status, 200) << to_partition.body;
  const auto partitioned = offsets_of(to_partition);
  ASSERT_EQ(partitioned.size(), 1u);
  EXPECT_EQ(partitioned[0].first, 2);

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 4u);
  const auto* first = at(records, offsets[0]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->key, "key");
  EXPECT_EQ(first->value, "confluent");
  ASSERT_NE(at(records, offsets[1]), nullptr);
  EXPECT_EQ(at(records, offsets[1])->value, "kafka");
  ASSERT_NE(at(records, offsets[2]), nullptr);
  EXPECT_EQ(at(records, offsets[2])->value, "logs");
  ASSERT_NE(at(records, partitioned[0]), nullptr);
  EXPECT_EQ(at(records, partitioned[0])->value, "partitioned");
}

TEST_F(ConfluentCompat, V2ErrorsComeInV2FormWithTheirConfluentCodes) {
  const std::string topic = testing::unique_name("compat.errors");
  const auto expect_v2_error = [&](const testing::HttpReply& reply, int status, std::int64_t error_code) {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.header("content-type"), "application/vnd.kafka.v2+json") << reply.body;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(reply.body).get(root), simdjson::SUCCESS) << reply.body;
    std::int64_t code = 0;
    std::string_view message;
    EXPECT_EQ(root["error_code"].get_int64().get(code), simdjson::SUCCESS) << reply.body;
    EXPECT_EQ(code, error_code) << reply.body;
    EXPECT_EQ(root["message"].get_string().get(message), simdjson::SUCCESS) << reply.body;
    EXPECT_FALSE(message.empty());
  };
  const std::string records = R"({"records":[{"value":{"a":1}}]})";
  // Wrong secret: 40101. A topic outside the key's globs: 40301.
  expect_v2_error(testing::http_request("127.0.0.1", port, "POST", "/topics/" + topic, records,
                                        {{"Authorization", "Basic Y29tcGF0Ondyb25n"},
                                         {"Content-Type", "application/vnd.kafka.json.v2+json"}}),
                  401, 40101);
  expect_v2_error(post("/topics/billing", "application/vnd.kafka.json.v2+json", records), 403, 40301);
  // A partition the topic does not have: 40402, and an honest 404 since nothing was accepted.
  ASSERT_EQ(post("/topics/" + topic, "application/vnd.kafka.json.v2+json", records).status, 200);  // creates it
  expect_v2_error(post("/topics/" + topic + "/partitions/999", "application/vnd.kafka.json.v2+json", records), 404,
                  40402);
  // Schema formats Intake does not serve: 42201 when records have keys, else 42202.
  expect_v2_error(post("/topics/" + topic, "application/vnd.kafka.avro.v2+json",
                       R"({"value_schema":"{\"type\":\"int\"}","records":[{"value":1}]})"),
                  422, 42202);
  expect_v2_error(
      post("/topics/" + topic, "application/vnd.kafka.protobuf.v2+json", R"({"records":[{"key":"k","value":1}]})"), 422,
      42201);
  // A Content-Type no format matches: 415, the accepted ones listed.
  const auto unsupported = post("/topics/" + topic, "text/csv", records);
  expect_v2_error(unsupported, 415, 415);
  EXPECT_NE(unsupported.body.find("application/vnd.kafka.binary.v2+json"), std::string::npos) << unsupported.body;
  // A body that is not the v2 shape: 400 naming the problem.
  expect_v2_error(post("/topics/" + topic, "application/vnd.kafka.json.v2+json", R"({"records":[{"key":"k"}]})"), 400,
                  400);
}

TEST_F(ConfluentCompat, NativeJsonArrayBatchInSyncModeAnswersEachRecordAndKeepsItsHeaders) {
  const std::string topic = testing::unique_name("compat.native");
  const auto reply = testing::http_request(
      "127.0.0.1", port, "POST", "/v1/topics/" + topic + "/records?sync=true",
      R"([{"value":"one","key":"k1","headers":{"trace":"t-1"}},)"
      R"({"value":{"n":2},"partition":1,"headers":{"bin":"AAH/"},"headers_encoding":"base64"}])",
      {{"Authorization", std::string("Bearer ") + kSecret}, {"Content-Type", "application/json"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(reply.body).get(root), simdjson::SUCCESS) << reply.body;
  std::int64_t delivered = 0;
  EXPECT_EQ(root["delivered"].get_int64().get(delivered), simdjson::SUCCESS);
  EXPECT_EQ(delivered, 2);
  simdjson::dom::array results;
  ASSERT_EQ(root["records"].get_array().get(results), simdjson::SUCCESS);
  std::vector<std::pair<std::int64_t, std::int64_t>> positions;
  for (simdjson::dom::element result : results) {
    std::int64_t partition = -1, offset = -1;
    EXPECT_EQ(result["partition"].get_int64().get(partition), simdjson::SUCCESS) << reply.body;
    EXPECT_EQ(result["offset"].get_int64().get(offset), simdjson::SUCCESS) << reply.body;
    positions.emplace_back(partition, offset);
  }
  ASSERT_EQ(positions.size(), 2u);
  EXPECT_EQ(positions[1].first, 1);
  // Sync: the 200 came after Kafka's acknowledgement, so the records are there now.
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 2u);
  const auto* first = at(records, positions[0]);
  const auto* second = at(records, positions[1]);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->value, "one");
  EXPECT_EQ(first->key, "k1");
  std::map<std::string, std::string> first_headers(first->headers.begin(), first->headers.end());
  EXPECT_EQ(first_headers["trace"], "t-1");
  EXPECT_EQ(first_headers["intake-key-id"], "compat");
  std::map<std::string, std::string> second_headers(second->headers.begin(), second->headers.end());
  EXPECT_EQ(second->value, R"({"n":2})");
  EXPECT_EQ(second_headers["bin"], std::string("\x00\x01\xff", 3));
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

}  // namespace
}  // namespace intake
