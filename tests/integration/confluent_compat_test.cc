// Clients written for the Confluent REST Proxy, against the real binary and the real broker:
// the request bodies are the ones Confluent's v2 API reference and quick start show, the
// answers are checked for the documented shape, and every record is consumed back.
// v3 likewise (one record, records:batch, and the streaming mode), and the native JSON-array
// batch in sync mode with per-record headers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

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

// A client that sends a chunked body piece by piece and reads what comes back meanwhile.
class StreamingClient {
 public:
  explicit StreamingClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0) throw std::runtime_error("connect");
  }
  ~StreamingClient() { ::close(fd_); }
  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void send_chunk(std::string_view data) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    send(std::string(size) + std::string(data) + "\r\n");
  }
  // Reads until `needle` was seen `count` times or 20 s passed; returns all read so far.
  std::string read_until(std::string_view needle, int count = 1) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      int seen = 0;
      for (auto at = received_.find(needle); at != std::string::npos; at = received_.find(needle, at + 1)) ++seen;
      if (seen >= count || std::chrono::steady_clock::now() > deadline) return received_;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buffer[8192];
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) return received_;
      received_.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string received_;
};

class ConfluentV3 : public ConfluentCompat {
 protected:
  // The cluster id Intake reports by default is the Kafka cluster's, which the producer learns
  // from the broker: a wrong id is refused with 404 naming the right one.
  std::string cluster_id() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const auto reply = post("/v3/clusters/not-this-one/topics/compat.v3/records", "application/json",
                              R"({"value":{"type":"STRING","data":"x"}})");
      if (reply.status == 404) {
        // The message, JSON-escaped: ... produces to cluster \"<id>\"
        const std::string marker = R"(this gateway produces to cluster \")";
        const auto at = reply.body.find(marker);
        if (at == std::string::npos) break;
        const auto end = reply.body.find(R"(\")", at + marker.size());
        return reply.body.substr(at + marker.size(), end - at - marker.size());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // 503 until a broker answered
    }
    ADD_FAILURE() << "no cluster id";
    return {};
  }

  std::int64_t int_of(simdjson::dom::element element, const char* member) {
    std::int64_t value = -1;
    EXPECT_EQ(element[member].get_int64().get(value), simdjson::SUCCESS) << member;
    return value;
  }
};

TEST_F(ConfluentV3, OneRecordFromTheApiReferenceIsAnsweredWithItsPartitionOffsetAndSizes) {
  const std::string topic = testing::unique_name("compat.v3one");
  const std::string cluster = cluster_id();
  ASSERT_FALSE(cluster.empty());
  EXPECT_NE(cluster, "not-this-one");
  // The request body of Confluent's v3 reference example for produce records.
  const std::string body = R"({
  "partition_id": 1,
  "headers": [
    {
      "name": "Header-1",
      "value": "SGVhZGVyLTE="
    },
    {
      "name": "Header-2",
      "value": "SGVhZGVyLTI="
    }
  ],
  "key": {
    "type": "BINARY",
    "data": "Zm9vYmFy"
  },
  "value": {
    "type": "JSON",
    "data": {
      "foo": "bar"
    }
  },
  "timestamp": "2021-02-05T19:14:42Z"
})";
  const auto reply = post("/v3/clusters/" + cluster + "/topics/" + topic + "/records", "application/json", body);
  ASSERT_EQ(reply.status, 200) << reply.body;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(reply.body).get(root), simdjson::SUCCESS) << reply.body;
  EXPECT_EQ(int_of(root, "error_code"), 200);
  EXPECT_EQ(std::string_view(root["cluster_id"].get_string().value_unsafe()), cluster);
  EXPECT_EQ(std::string_view(root["topic_name"].get_string().value_unsafe()), topic);
  EXPECT_EQ(int_of(root, "partition_id"), 1);
  const std::int64_t offset = int_of(root, "offset");
  EXPECT_EQ(std::string_view(root["timestamp"].get_string().value_unsafe()), "2021-02-05T19:14:42.000Z");
  EXPECT_EQ(std::string_view(root["key"]["type"].get_string().value_unsafe()), "BINARY");
  EXPECT_EQ(int_of(root["key"], "size"), 6);  // "foobar"
  EXPECT_EQ(std::string_view(root["value"]["type"].get_string().value_unsafe()), "JSON");
  EXPECT_EQ(int_of(root["value"], "size"), 13);  // {"foo":"bar"}

  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].partition, 1);
  EXPECT_EQ(records[0].offset, offset);
  EXPECT_EQ(records[0].key, "foobar");
  EXPECT_EQ(records[0].value, R"({"foo":"bar"})");
  std::map<std::string, std::string> headers(records[0].headers.begin(), records[0].headers.end());
  EXPECT_EQ(headers["Header-1"], "Header-1");
  EXPECT_EQ(headers["Header-2"], "Header-2");
  // A wrong cluster id in v3 form.
  const auto wrong = post("/v3/clusters/not-this-one/topics/" + topic + "/records", "application/json", body);
  EXPECT_EQ(wrong.status, 404);
  EXPECT_NE(wrong.body.find(R"("error_code":404)"), std::string::npos) << wrong.body;
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

TEST_F(ConfluentV3, ABatchAnswers207WithEachEntrysSuccessOrFailure) {
  const std::string topic = testing::unique_name("compat.v3batch");
  const std::string cluster = cluster_id();
  ASSERT_FALSE(cluster.empty());
  const std::string body = R"({"entries":[
    {"id":"1","value":{"type":"STRING","data":"first"}},
    {"id":"2","key":{"type":"STRING","data":"k2"},"value":{"type":"JSON","data":[1,2]}},
    {"id":"3","partition_id":999,"value":{"type":"BINARY","data":"dGhpcmQ="}}]})";
  const auto reply = post("/v3/clusters/" + cluster + "/topics/" + topic + "/records:batch", "application/json", body);
  ASSERT_EQ(reply.status, 207) << reply.body;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(reply.body).get(root), simdjson::SUCCESS) << reply.body;
  simdjson::dom::array successes, failures;
  ASSERT_EQ(root["successes"].get_array().get(successes), simdjson::SUCCESS) << reply.body;
  ASSERT_EQ(root["failures"].get_array().get(failures), simdjson::SUCCESS) << reply.body;
  ASSERT_EQ(successes.size(), 2u) << reply.body;
  ASSERT_EQ(failures.size(), 1u) << reply.body;
  EXPECT_EQ(std::string_view(failures.at(0)["id"].get_string().value_unsafe()), "3");
  EXPECT_EQ(int_of(failures.at(0), "error_code"), 404) << reply.body;  // no partition 999
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 2u);
  std::map<std::string, std::string> by_value;
  for (const auto& record : records) by_value[record.value] = record.key;
  EXPECT_TRUE(by_value.count("first"));
  EXPECT_EQ(by_value["[1,2]"], "k2");
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

TEST_F(ConfluentV3, AStreamIsAnsweredRecordByRecordWhileTheClientIsStillSending) {
  const std::string topic = testing::unique_name("compat.v3stream");
  const std::string cluster = cluster_id();
  ASSERT_FALSE(cluster.empty());
  StreamingClient client(port);
  client.send("POST /v3/clusters/" + cluster + "/topics/" + topic +
              "/records HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + kBasic +
              "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  // Two records, the second split across chunks, as a client writing as it goes sends them.
  client.send_chunk(R"({"value":{"type":"STRING","data":"s1"}})"
                    "\n"
                    R"({"key":{"type":"STRING","data":"k2"},)");
  client.send_chunk(R"("value":{"type":"JSON","data":{"n":2}}})");
  // Both reports come back while the body is still open.
  auto received = client.read_until(R"("error_code":200)", 2);
  ASSERT_EQ(received.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << received;
  EXPECT_NE(received.find("Transfer-Encoding: chunked"), std::string::npos) << received;
  const auto first = received.find(R"("size":2})");
  ASSERT_NE(first, std::string::npos) << received;
  // A record that does not decode gets its error as its report; the stream goes on.
  client.send_chunk(R"({"key":{"type":"STRING","data":"no value"}})");
  client.send_chunk(R"({"value":{"type":"STRING","data":"s4"}})");
  client.send("0\r\n\r\n");
  received = client.read_until("0\r\n\r\n");
  EXPECT_NE(received.find(R"("error_code":400)"), std::string::npos) << received;
  std::size_t successes = 0;
  for (auto at = received.find(R"("error_code":200)"); at != std::string::npos;
       at = received.find(R"("error_code":200)", at + 1)) {
    ++successes;
  }
  EXPECT_EQ(successes, 3u) << received;
  // In record order: the error report (third record) comes before the fourth's success.
  EXPECT_LT(received.find(R"("error_code":400)"), received.rfind(R"("error_code":200)")) << received;

  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 3u);
  std::map<std::string, std::string> by_value;
  for (const auto& record : records) by_value[record.value] = record.key;
  EXPECT_TRUE(by_value.count("s1"));
  EXPECT_EQ(by_value[R"({"n":2})"], "k2");
  EXPECT_TRUE(by_value.count("s4"));
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

}  // namespace
}  // namespace intake
