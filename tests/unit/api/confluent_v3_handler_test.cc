// The Confluent v3 produce routes behind the router, with a fake sink that reports each
// record's outcome at once: the exact answers, the cluster id, headers and timestamps.
#include "api/confluent_v3_handler.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/store.h"
#include "crypto/digest.h"

namespace intake::api {
namespace {

constexpr std::int64_t kKafkaTimestampMs = 1612552482000;  // 2021-02-05T19:14:42.000Z

// Takes records and reports them delivered at once (offsets 12, 13, ...), stamped with the
// client's timestamp or else kKafkaTimestampMs; a value "kafka-refuses" is reported refused.
class FakeSink final : public kafka::RecordSink {
 public:
  struct Stored {
    std::string topic, key, value;
    std::int32_t partition;
    std::int64_t timestamp_ms;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    if (refuse) return *refuse;
    Stored stored{std::string(record.topic), std::string(record.key), std::string(record.value),
                  record.partition,          record.timestamp_ms,     {}};
    for (const auto& header : record.headers) stored.headers.emplace_back(header.name, header.value);
    records.push_back(std::move(stored));
    if (record.listener != nullptr) {
      kafka::DeliveryReport report;
      if (record.value == "\"kafka-refuses\"") {
        report.error = Error{ErrorCode::kRecordTooLarge, "the broker refused it"};
        report.reason = kafka::FailureReason::kTooLarge;
      } else {
        report.delivered = true;
        report.partition = record.partition < 0 ? 0 : record.partition;
        report.offset = next_offset++;
        report.timestamp_ms = record.timestamp_ms != 0 ? record.timestamp_ms : kKafkaTimestampMs;
      }
      record.listener->on_delivery(report);
    }
    return {};
  }
  bool ready() const override { return true; }
  std::vector<Stored> records;
  std::int64_t next_offset = 12;
  std::optional<Error> refuse;
};

class Headers final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    const auto found = values.find(std::string(name));
    return found == values.end() ? std::string_view() : std::string_view(found->second);
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    for (const auto& [name, value] : values) visit(name, value);
  }
  std::map<std::string, std::string> values{{"Authorization", "Bearer team-secret"},
                                            {"Content-Type", "application/json"}};
};

class ConfluentV3HandlerTest : public ::testing::Test {
 protected:
  ConfluentV3HandlerTest() {
    auto config = std::make_shared<config::Config>();
    config::ApiKey key;
    key.id = "team";
    key.secret_sha256 = crypto::sha256("team-secret");
    key.topic_patterns = {"events.*"};
    config->keys.emplace(key.secret_sha256, key);
    store.publish(config);
    // As app/gateway.cc registers them.
    router.add(http::Method::kPost, kConfluentV3RecordsRoute, handler);
    router.add(http::Method::kPost, kConfluentV3BatchRoute, handler);
  }

  http::Response post(std::string_view path, std::string_view body) {
    http::Request request;
    request.method = http::Method::kPost;
    request.path = path;
    request.body = body;
    request.headers = &headers;
    return router.dispatch(request);
  }

  config::ConfigStore store;
  policy::RateLimiter limiter;
  FakeSink sink;
  ProduceGate gate{store, limiter, sink};
  std::string kafka_cluster_id = "MkU3OEVBNTcwNTJENDM2Qk";
  ConfluentV3Handler handler{gate, {"", [this] { return kafka_cluster_id; }}};
  http::Router router;
  Headers headers;
};

constexpr std::string_view kRecords = "/v3/clusters/MkU3OEVBNTcwNTJENDM2Qk/topics/events.click/records";
constexpr std::string_view kBatch = "/v3/clusters/MkU3OEVBNTcwNTJENDM2Qk/topics/events.click/records:batch";

TEST_F(ConfluentV3HandlerTest, TheRoutePatternsAreConfluents) {
  EXPECT_EQ(kConfluentV3RecordsRoute, "/v3/clusters/{cluster_id}/topics/{topic_name}/records");
  EXPECT_EQ(kConfluentV3BatchRoute, "/v3/clusters/{cluster_id}/topics/{topic_name}/records:batch");
}

TEST_F(ConfluentV3HandlerTest, ProducesOneRecordAndAnswersItsOffset) {
  const auto response = post(kRecords, R"({"key":{"type":"BINARY","data":"Ymlua2V5MQ=="},"value":{"type":"JSON",)"
                                       R"("data":{"a":"bcdefgh"}},"headers":[{"name":"trace","value":"YWJj"}]})");
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            R"({"error_code":200,"cluster_id":"MkU3OEVBNTcwNTJENDM2Qk","topic_name":"events.click",)"
            R"("partition_id":0,"offset":12,"timestamp":"2021-02-05T19:14:42.000Z","key":{"type":"BINARY",)"
            R"("size":7},"value":{"type":"JSON","size":15}})");
  ASSERT_EQ(sink.records.size(), 1u);
  const auto& record = sink.records[0];
  EXPECT_EQ(record.topic, "events.click");
  EXPECT_EQ(record.key, "binkey1");
  EXPECT_EQ(record.value, R"({"a":"bcdefgh"})");
  EXPECT_EQ(record.partition, -1);
  EXPECT_EQ(record.timestamp_ms, 0);
  // The record's own header, then the gateway's.
  ASSERT_GE(record.headers.size(), 3u);
  EXPECT_EQ(record.headers[0], (std::pair<std::string, std::string>{"trace", "abc"}));
  bool has_key_id = false;
  for (const auto& [name, value] : record.headers)
    has_key_id = has_key_id || (name == "intake-key-id" && value == "team");
  EXPECT_TRUE(has_key_id);
}

TEST_F(ConfluentV3HandlerTest, PassesTheTimestampAndPartitionOnAndAnswersNullKey) {
  const auto response =
      post(kRecords, R"({"partition_id":2,"timestamp":"2022-03-04T05:06:07.089+01:00","value":{"type":"STRING",)"
                     R"("data":"hi"}})");
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.body, R"({"error_code":200,"cluster_id":"MkU3OEVBNTcwNTJENDM2Qk","topic_name":"events.click",)"
                           R"("partition_id":2,"offset":12,"timestamp":"2022-03-04T04:06:07.089Z","key":null,)"
                           R"("value":{"type":"STRING","size":2}})");
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].partition, 2);
  EXPECT_EQ(sink.records[0].timestamp_ms, 1646366767089);
}

TEST_F(ConfluentV3HandlerTest, AKafkaRefusalIsAnsweredInV3Form) {
  const auto response = post(kRecords, R"({"value":{"type":"STRING","data":"kafka-refuses"}})");
  // STRING data is produced as is: the fake refuses only the JSON text "kafka-refuses" with quotes.
  EXPECT_EQ(response.status, 200);
  const auto refused = post(kRecords, R"({"value":{"type":"JSON","data":"kafka-refuses"}})");
  EXPECT_EQ(refused.status, 413) << refused.body;
  EXPECT_EQ(refused.body, R"({"error_code":413,"message":"the broker refused it","code":"record_too_large"})");
}

TEST_F(ConfluentV3HandlerTest, ASinkRefusalAtHandOverIsTheAnswer) {
  sink.refuse = Error{ErrorCode::kKafkaUnavailable, "no Kafka broker is reachable"};
  const auto response = post(kRecords, R"({"value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, R"({"error_code":503,"message":"no Kafka broker is reachable","code":"kafka_unavailable"})");
}

TEST_F(ConfluentV3HandlerTest, AnotherClusterIsNotFound) {
  const auto response =
      post("/v3/clusters/other/topics/events.click/records", R"({"value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body,
            R"({"error_code":404,"message":"no cluster \"other\" here; this gateway produces to cluster )"
            R"(\"MkU3OEVBNTcwNTJENDM2Qk\"","code":"cluster_not_found"})");
  EXPECT_TRUE(sink.records.empty());
}

TEST_F(ConfluentV3HandlerTest, AnUnknownKafkaClusterIdIsUnavailable) {
  kafka_cluster_id.clear();
  const auto response = post(kRecords, R"({"value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find(R"("error_code":503)"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("confluent.cluster_id"), std::string::npos) << response.body;
}

TEST_F(ConfluentV3HandlerTest, AConfiguredClusterIdIsTheOnlyOneServed) {
  ConfluentV3Handler configured{gate, {"lkc-abc123", [this] { return kafka_cluster_id; }}};
  http::Router other;
  other.add(http::Method::kPost, kConfluentV3RecordsRoute, configured);
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v3/clusters/lkc-abc123/topics/events.click/records";
  request.body = R"({"value":{"type":"STRING","data":"v"}})";
  request.headers = &headers;
  const auto response = other.dispatch(request);
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find(R"("cluster_id":"lkc-abc123")"), std::string::npos);
  request.path = kRecords;
  EXPECT_EQ(other.dispatch(request).status, 404);
}

TEST_F(ConfluentV3HandlerTest, RefusesOtherContentTypesAndSchemaForms) {
  headers.values["Content-Type"] = "application/vnd.kafka.json.v2+json";
  EXPECT_EQ(post(kRecords, R"({"value":{"type":"STRING","data":"v"}})").status, 415);
  headers.values.erase("Content-Type");  // absent: JSON, as the proxy assumes
  EXPECT_EQ(post(kRecords, R"({"value":{"type":"STRING","data":"v"}})").status, 200);
  const auto schema = post(kRecords, R"({"value":{"type":"AVRO","data":{"a":1}}})");
  EXPECT_EQ(schema.status, 422);
  EXPECT_NE(schema.body.find(R"({"error_code":422,)"), std::string::npos) << schema.body;
  EXPECT_NE(schema.body.find("schema_format_not_supported"), std::string::npos) << schema.body;
}

TEST_F(ConfluentV3HandlerTest, RefusesBadBodiesAndForeignTopicsBeforeProducing) {
  auto response = post(kRecords, R"({"value":null})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find(R"("error_code":400)"), std::string::npos);
  response = post(kRecords, R"({"timestamp":"soon","value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(response.status, 400);
  response =
      post("/v3/clusters/MkU3OEVBNTcwNTJENDM2Qk/topics/secrets/records", R"({"value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(response.status, 403) << response.body;
  EXPECT_NE(response.body.find(R"("error_code":403)"), std::string::npos);
  headers.values["Authorization"] = "Bearer wrong";
  EXPECT_EQ(post(kRecords, R"({"value":{"type":"STRING","data":"v"}})").status, 401);
  EXPECT_TRUE(sink.records.empty());
}

TEST_F(ConfluentV3HandlerTest, ABatchAnswersSuccessesAndFailuresByEntry) {
  const auto response =
      post(kBatch, R"({"entries":[{"id":"1","key":{"type":"STRING","data":"k"},"value":{"type":"JSON",)"
                   R"("data":"kafka-refuses"}},{"id":"2","partition_id":1,"value":{"type":"STRING",)"
                   R"("data":"ok"}},{"id":"3","value":{"type":"JSON","data":"kafka-refuses"}}]})");
  EXPECT_EQ(response.status, 207) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            R"({"successes":[{"id":"2","cluster_id":"MkU3OEVBNTcwNTJENDM2Qk","topic_name":"events.click",)"
            R"("partition_id":1,"offset":12,"timestamp":"2021-02-05T19:14:42.000Z","key":null,)"
            R"("value":{"type":"STRING","size":2}}],"failures":[{"id":"1","error_code":413,)"
            R"("message":"the broker refused it","code":"record_too_large"},{"id":"3","error_code":413,)"
            R"("message":"the broker refused it","code":"record_too_large"}]})");
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].key, "k");
}

TEST_F(ConfluentV3HandlerTest, ABatchWithOneBadEntryProducesNothing) {
  const auto response = post(kBatch, R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}},)"
                                     R"({"id":"2","value":{"type":"BINARY","data":"!"}}]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find(R"(entries[1] (id \"2\"))"), std::string::npos) << response.body;
  EXPECT_TRUE(sink.records.empty());
}

TEST_F(ConfluentV3HandlerTest, ABatchRefusedAtHandOverListsEveryEntryAsFailed) {
  sink.refuse = Error{ErrorCode::kBackpressure, "the gateway's Kafka queue is full"};
  const auto response = post(kBatch, R"({"entries":[{"id":"a","value":{"type":"STRING","data":"x"}}]})");
  EXPECT_EQ(response.status, 207);
  EXPECT_EQ(response.body,
            R"({"successes":[],"failures":[{"id":"a","error_code":429,"message":"the gateway's Kafka queue is )"
            R"(full","code":"backpressure"}]})");
}

TEST_F(ConfluentV3HandlerTest, TheSingleRouteDoesNotTakeBatches) {
  // records:batch is its own segment: the single-record route reads this body as one record.
  const auto response = post(kRecords, R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}}]})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("unknown field \\\"entries\\\""), std::string::npos) << response.body;
}

}  // namespace
}  // namespace intake::api
