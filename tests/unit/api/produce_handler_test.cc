// The produce handler behind the router, with a fake sink: which of its two routes a request
// takes depends on the route that matched, never on what the path ends with.
#include "api/produce_handler.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/store.h"
#include "crypto/digest.h"

namespace intake::api {
namespace {

class FakeSink final : public kafka::RecordSink {
 public:
  struct Stored {
    std::string topic, value;
  };
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    records.push_back({std::string(record.topic), std::string(record.value)});
    return {};
  }
  bool ready() const override { return true; }
  std::vector<Stored> records;
};

class BearerHeader final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    return name == "Authorization" ? std::string_view("Bearer team-secret") : std::string_view();
  }
};

class ProduceRoutesTest : public ::testing::Test {
 protected:
  ProduceRoutesTest() {
    auto config = std::make_shared<config::Config>();
    config::ApiKey key;
    key.id = "team";
    key.secret_sha256 = crypto::sha256("team-secret");
    key.topic_patterns = {"records", "events.*"};
    config->keys.emplace(key.secret_sha256, key);
    store.publish(config);
    // As app/gateway.cc registers them.
    router.add(http::Method::kPost, "/v1/topics/{topic}", produce);
    router.add(http::Method::kPost, "/v1/topics/{topic}/records", produce);
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
  ProduceHandler produce{store, limiter, sink};
  http::Router router;
  BearerHeader headers;
};

TEST_F(ProduceRoutesTest, ATopicNamedRecordsTakesSingleRecords) {
  // An NDJSON-looking body proves it is not read as a batch: the whole body is one value.
  const std::string body = "{\"value\":\"a\"}\n{\"value\":\"b\"}\n";
  const auto response = post("/v1/topics/records", body);
  EXPECT_EQ(response.status, 202) << response.body;
  EXPECT_EQ(response.body, R"({"accepted":1})");
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].topic, "records");
  EXPECT_EQ(sink.records[0].value, body);
}

TEST_F(ProduceRoutesTest, ABatchToATopicNamedRecordsGoesToThatTopic) {
  const auto response = post("/v1/topics/records/records", "{\"value\":\"a\"}\n{\"value\":\"b\"}\n");
  EXPECT_EQ(response.status, 202) << response.body;
  EXPECT_EQ(response.body, R"({"accepted":2})");
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].topic, "records");
  EXPECT_EQ(sink.records[0].value, "a");
  EXPECT_EQ(sink.records[1].topic, "records");
  EXPECT_EQ(sink.records[1].value, "b");
}

TEST_F(ProduceRoutesTest, OtherTopicsStillTellTheRoutesApart) {
  EXPECT_EQ(post("/v1/topics/events.click", "raw").body, R"({"accepted":1})");
  EXPECT_EQ(post("/v1/topics/events.click/records", "{\"value\":\"x\"}").body, R"({"accepted":1})");
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].value, "raw");
  EXPECT_EQ(sink.records[1].value, "x");
}

TEST_F(ProduceRoutesTest, TheRoutePatternsAreTheOnesTheHandlerKnows) {
  EXPECT_EQ(kRecordRoute, "/v1/topics/{topic}");
  EXPECT_EQ(kBatchRoute, "/v1/topics/{topic}/records");
  http::Router elsewhere;
  elsewhere.add(http::Method::kPost, "/v2/{topic}", produce);
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v2/events.click";
  request.body = "raw";
  request.headers = &headers;
  EXPECT_EQ(elsewhere.dispatch(request).status, 500);
  EXPECT_TRUE(sink.records.empty());
}

}  // namespace
}  // namespace intake::api
