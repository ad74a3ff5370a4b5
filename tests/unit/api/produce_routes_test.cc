// The two produce handlers behind the router, with a fake sink: which route a request takes
// depends on the route that matched, never on what the path ends with.
#include "api/batch_handler.h"
#include "api/idempotent_handler.h"
#include "api/single_record_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/store.h"
#include "crypto/digest.h"
#include "policy/signature.h"

namespace intake::api {
namespace {

class FakeSink final : public kafka::RecordSink {
 public:
  struct Stored {
    std::string topic, value;
  };
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    if (records.size() >= refuse_from) return Error{ErrorCode::kBackpressure, "the gateway's Kafka queue is full"};
    records.push_back({std::string(record.topic), std::string(record.value)});
    return {};
  }
  bool ready() const override { return true; }
  std::vector<Stored> records;
  std::size_t refuse_from = SIZE_MAX;  // records taken before the sink refuses
};

class BearerHeader final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    return name == "Authorization" ? std::string_view("Bearer team-secret") : std::string_view();
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    visit("Authorization", "Bearer team-secret");
  }
};

class SignedHeaders final : public http::HeaderSource {
 public:
  explicit SignedHeaders(std::string signature) : signature_(std::move(signature)) {}
  std::string_view find(std::string_view name) const override {
    if (name == "Authorization") return "Bearer team-secret";
    if (name == "X-Intake-Signature") return signature_;
    return {};
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    visit("Authorization", "Bearer team-secret");
    visit("X-Intake-Signature", signature_);
  }

 private:
  std::string signature_;
};

class IdempotentHeaders final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    if (name == "Authorization") return "Bearer team-secret";
    if (name == "Idempotency-Key") return "order-42";
    return {};
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    visit("Authorization", "Bearer team-secret");
    visit("Idempotency-Key", "order-42");
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
    router.add(http::Method::kPost, kRecordRoute, single_record);
    router.add(http::Method::kPost, kBatchRoute, batch);
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
  SingleRecordHandler single_record{gate};
  BatchHandler batch{gate};
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

TEST_F(ProduceRoutesTest, ABatchRefusedMidwayAnswersTheErrorWithTheAcceptedCount) {
  sink.refuse_from = 2;
  auto response = post("/v1/topics/events.click/records", "{\"value\":\"1\"}\n{\"value\":\"2\"}\n{\"value\":\"3\"}");
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.retry_after_s, 1u);
  EXPECT_EQ(response.body,
            R"({"error":{"code":"backpressure","message":"the gateway's Kafka queue is full; the first 2 records )"
            R"(were accepted, resend from record 3"},"accepted":2})");
  sink.refuse_from = sink.records.size();
  response = post("/v1/topics/events.click/records", "{\"value\":\"4\"}");
  EXPECT_EQ(response.body,
            R"({"error":{"code":"backpressure","message":"the gateway's Kafka queue is full"},"accepted":0})");
}

TEST_F(ProduceRoutesTest, TheRoutePatternsAreTheDocumentedOnes) {
  EXPECT_EQ(kRecordRoute, "/v1/topics/{topic}");
  EXPECT_EQ(kBatchRoute, "/v1/topics/{topic}/records");
}

TEST_F(ProduceRoutesTest, EachHandlerTakesTheTopicFromItsRoute) {
  // Registered elsewhere, each handler still does its one job with the first capture as topic.
  http::Router elsewhere;
  elsewhere.add(http::Method::kPost, "/v2/{topic}", single_record);
  elsewhere.add(http::Method::kPost, "/v2/{topic}/batch", batch);
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v2/events.click";
  request.body = "{\"value\":\"a\"}\n{\"value\":\"b\"}";
  request.headers = &headers;
  EXPECT_EQ(elsewhere.dispatch(request).body, R"({"accepted":1})");
  request.path = "/v2/events.click/batch";
  EXPECT_EQ(elsewhere.dispatch(request).body, R"({"accepted":2})");
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].value, request.body);
  EXPECT_EQ(sink.records[1].value, "a");
  EXPECT_EQ(sink.records[2].value, "b");
}

TEST_F(ProduceRoutesTest, ASignatureIsAcceptedOnceAcrossBothRoutes) {
  auto config = std::make_shared<config::Config>(*store.current());
  auto& key = config->keys.begin()->second;
  key.signing_secret = "sixteen-byte-secret";
  store.publish(config);
  const std::string body = "{\"value\":\"a\"}";
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  SignedHeaders signed_headers(policy::sign_request(key.signing_secret, now_s, body));
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/topics/events.click/records";
  request.body = body;
  request.headers = &signed_headers;
  EXPECT_EQ(router.dispatch(request).status, 202);
  request.path = "/v1/topics/events.click";
  const auto replayed = router.dispatch(request);
  EXPECT_EQ(replayed.status, 401) << replayed.body;
  EXPECT_NE(replayed.body.find("signature_replayed"), std::string::npos) << replayed.body;
}

TEST_F(ProduceRoutesTest, TheGateNamesTheCallerByKeyId) {
  http::Request request;
  request.headers = &headers;
  EXPECT_EQ(gate.caller_key_id(request), std::optional<std::string>("team"));
  request.headers = nullptr;
  EXPECT_EQ(gate.caller_key_id(request), std::nullopt);
}

TEST_F(ProduceRoutesTest, RecordsCarryTheIdempotencyKey) {
  IdempotentHeaders idem_headers;
  http::Request request;
  request.method = http::Method::kPost;
  request.body = "v";
  request.headers = &idem_headers;
  auto admitted = gate.admit(request, "records");
  ASSERT_TRUE(admitted) << admitted.error().message;
  RecordHeaders record_headers;
  gate.fill_headers(request, admitted.value(), record_headers);
  const auto items = record_headers.view();
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.back().name, "intake-idempotency-key");
  EXPECT_EQ(items.back().value, "order-42");

  request.headers = &headers;
  RecordHeaders without;
  gate.fill_headers(request, admitted.value(), without);
  for (const auto& item : without.view()) EXPECT_NE(item.name, "intake-idempotency-key");
}

TEST_F(ProduceRoutesTest, ARetryWithTheSameIdempotencyKeyProducesOnce) {
  IdempotentHandler idempotent(single_record, std::make_shared<IdempotencyCache>(),
                               [this](const http::Request& request) { return gate.caller_key_id(request); });
  http::Router idem_router;
  idem_router.add(http::Method::kPost, kRecordRoute, idempotent);
  IdempotentHeaders idem_headers;
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/topics/records";
  request.body = "v";
  request.headers = &idem_headers;
  const auto first = idem_router.dispatch(request);
  const auto retry = idem_router.dispatch(request);
  EXPECT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(retry.status, 202);
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(sink.records.size(), 1u);
}

}  // namespace
}  // namespace intake::api
