// Signed requests through the produce routes: what a v2 signature binds (topic, route,
// headers), and when its nonce is spent — only once the request was accepted, so a retry
// after a refusal passes and a replay of an accepted request does not.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/batch_handler.h"
#include "api/confluent_v2_handler.h"
#include "api/single_record_handler.h"
#include "config/store.h"
#include "crypto/digest.h"
#include "policy/signature.h"

namespace intake::api {
namespace {

constexpr std::string_view kSigningSecret = "sixteen-byte-secret";

class FakeSink final : public kafka::RecordSink {
 public:
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    if (refuse) return *refuse;
    values.emplace_back(record.value);
    if (record.listener != nullptr) listeners.push_back(record.listener);
    return {};
  }
  bool ready() const override { return true; }
  // Reports the oldest sync record still waiting.
  void report(bool delivered) {
    auto* listener = listeners.front();
    listeners.erase(listeners.begin());
    kafka::DeliveryReport report;
    report.delivered = delivered;
    report.partition = 0;
    report.offset = 7;
    if (!delivered) report.error = Error{ErrorCode::kKafkaUnavailable, "no broker"};
    listener->on_delivery(report);
  }
  std::vector<std::string> values;
  std::vector<kafka::DeliveryListener*> listeners;
  std::optional<Error> refuse;
};

class Headers final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    for (const auto& [n, v] : values) {
      if (n == name) return v;
    }
    return {};
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    for (const auto& [n, v] : values) visit(n, v);
  }
  std::vector<std::pair<std::string, std::string>> values;
};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class SignedProduceTest : public ::testing::Test {
 protected:
  SignedProduceTest() {
    publish(std::nullopt);
    router.add(http::Method::kPost, kRecordRoute, single_record);
    router.add(http::Method::kPost, kBatchRoute, batch);
    router.add(http::Method::kPost, kConfluentV2TopicRoute, confluent_v2);
  }

  void publish(std::optional<config::RateLimit> rate, std::size_t max_record_bytes = 0) {
    auto config = std::make_shared<config::Config>();
    config->settings.max_record_bytes = max_record_bytes;
    config::ApiKey key;
    key.id = "team";
    key.secret_sha256 = crypto::sha256("team-secret");
    key.topic_patterns = {"events.*"};
    key.signing_secret = std::string(kSigningSecret);
    key.rate = rate;
    config->keys.emplace(key.secret_sha256, key);
    limiter.track(*config);
    store.publish(config);
  }

  // A request to `path`, signed with `nonce`; the test may alter it after it was signed.
  struct Prepared {
    Headers headers;
    std::string path, query, body;
    http::Request request() const {
      http::Request request;
      request.method = http::Method::kPost;
      request.path = path;
      request.query = query;
      request.body = body;
      request.headers = &headers;
      return request;
    }
  };
  std::unique_ptr<Prepared> prepare(std::string path, std::string body, std::string nonce,
                                    std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto prepared = std::make_unique<Prepared>();
    prepared->path = std::move(path);
    prepared->body = std::move(body);
    prepared->headers.values = {{"Authorization", "Bearer team-secret"}};
    for (auto& header : extra) prepared->headers.values.push_back(std::move(header));
    std::vector<policy::HeaderLine> lines;
    for (const auto& [n, v] : prepared->headers.values) lines.push_back({n, v});
    const policy::RequestToSign to_sign{.method = "POST",
                                        .path = prepared->path,
                                        .query = prepared->query,
                                        .headers = lines,
                                        .copy_headers = {},
                                        .body = prepared->body};
    prepared->headers.values.emplace_back("X-Intake-Signature",
                                          policy::sign_request_v2(kSigningSecret, to_sign, unix_now(), nonce));
    return prepared;
  }

  http::Response send(const Prepared& prepared) { return router.dispatch(prepared.request()); }

  static std::string code(const http::Response& response) {
    const auto at = response.body.find("\"code\":\"");
    if (at == std::string::npos) return "";
    return response.body.substr(at + 8, response.body.find('"', at + 8) - at - 8);
  }

  config::ConfigStore store;
  policy::RateLimiter limiter;
  FakeSink sink;
  ProduceGate gate{store, limiter, sink};
  SingleRecordHandler single_record{gate};
  BatchHandler batch{gate};
  ConfluentV2Handler confluent_v2{gate};
  http::Router router;
};

TEST_F(SignedProduceTest, AnAcceptedRequestsReplayIsRefused) {
  auto request = prepare("/v1/topics/events.a", "one", "nonce-accepted-000001");
  EXPECT_EQ(send(*request).status, 202);
  const auto replayed = send(*request);
  EXPECT_EQ(replayed.status, 401);
  EXPECT_EQ(code(replayed), "signature_replayed");
  EXPECT_EQ(sink.values.size(), 1u);
  EXPECT_EQ(gate.replay_stats().replays_refused.load(), 1u);
}

TEST_F(SignedProduceTest, TheSignatureBindsTopicRouteAndHeaders) {
  auto request = prepare("/v1/topics/events.a", "{\"value\":\"x\"}", "nonce-binds-00000001");
  request->path = "/v1/topics/events.b";
  EXPECT_EQ(code(send(*request)), "invalid_signature");
  request->path = "/v1/topics/events.a/records";
  EXPECT_EQ(code(send(*request)), "invalid_signature");
  request->path = "/v1/topics/events.a";
  request->headers.values.emplace_back("X-Intake-Record-Key", "added");
  EXPECT_EQ(code(send(*request)), "invalid_signature");
  request->headers.values.pop_back();
  request->query = "sync=true";
  EXPECT_EQ(code(send(*request)), "invalid_signature");
  request->query.clear();
  EXPECT_EQ(send(*request).status, 202);  // unaltered, and none of the refusals spent the nonce
  EXPECT_TRUE(sink.values.size() == 1);
}

TEST_F(SignedProduceTest, ARetryAfterARateLimitPassesWithTheSameNonce) {
  publish(config::RateLimit{.records_per_sec = 0.001, .burst = 1});
  EXPECT_EQ(send(*prepare("/v1/topics/events.a", "first", "nonce-rate-000000001")).status, 202);
  auto request = prepare("/v1/topics/events.a", "second", "nonce-rate-000000002");
  const auto limited = send(*request);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(code(limited), "rate_limited");
  publish(std::nullopt);  // the limit is lifted; the client retries the very same request
  EXPECT_EQ(send(*request).status, 202);
  EXPECT_EQ(code(send(*request)), "signature_replayed");
}

TEST_F(SignedProduceTest, ARetryAfterKafkaWasUnavailablePassesWithTheSameNonce) {
  sink.refuse = Error{ErrorCode::kKafkaUnavailable, "no broker reachable"};
  auto request = prepare("/v1/topics/events.a", "value", "nonce-unavailable-001");
  EXPECT_EQ(send(*request).status, 503);
  sink.refuse.reset();
  EXPECT_EQ(send(*request).status, 202);
}

TEST_F(SignedProduceTest, ALaterCheckRefusingReleasesTheNonce) {
  publish(std::nullopt, /*max_record_bytes=*/2);
  auto request = prepare("/v1/topics/events.a", "value", "nonce-too-large-00001");
  EXPECT_EQ(send(*request).status, 413);
  publish(std::nullopt);
  EXPECT_EQ(send(*request).status, 202);
}

TEST_F(SignedProduceTest, ABatchRefusedMidwaySpendsTheNonce) {
  auto request =
      prepare("/v1/topics/events.a/records", "{\"value\":\"1\"}\n{\"value\":\"2\"}", "nonce-partial-0000001");
  // The first record is taken, the second refused: a replay would produce the first again.
  class RefuseSecond final : public kafka::RecordSink {
   public:
    Result<void> enqueue(const kafka::OutgoingRecord&) override {
      if (++calls > 1) return Error{ErrorCode::kBackpressure, "full"};
      return {};
    }
    bool ready() const override { return true; }
    int calls = 0;
  } refuse_second;
  ProduceGate partial_gate{store, limiter, refuse_second};
  BatchHandler partial_batch{partial_gate};
  http::RouteParams params;
  params.values[0] = "events.a";
  params.count = 1;
  EXPECT_EQ(partial_batch.handle(request->request(), params).status, 429);
  EXPECT_EQ(code(partial_batch.handle(request->request(), params)), "signature_replayed");
}

TEST_F(SignedProduceTest, ASyncAnswerSettlesTheNonceWhenKafkaHasSpoken) {
  auto failed = prepare("/v1/topics/events.a", "value", "nonce-sync-000000001", {{"X-Intake-Sync", "true"}});
  auto response = send(*failed);
  ASSERT_TRUE(response.deferred);
  EXPECT_EQ(code(send(*failed)), "signature_replayed");  // in flight: a concurrent duplicate
  sink.report(false);
  EXPECT_EQ(response.deferred->take()->status, 503);
  auto retried = send(*failed);  // refused by Kafka: the retry passes
  ASSERT_TRUE(retried.deferred);
  sink.report(true);
  EXPECT_EQ(retried.deferred->take()->status, 200);
  EXPECT_EQ(code(send(*failed)), "signature_replayed");
}

TEST_F(SignedProduceTest, TheConfluentRouteSettlesTheSameWay) {
  const std::string body = R"({"records":[{"value":{"a":1}}]})";
  auto request = prepare("/topics/events.a", body, "nonce-confluent-00001",
                         {{"Content-Type", "application/vnd.kafka.json.v2+json"}});
  auto response = send(*request);
  ASSERT_TRUE(response.deferred);
  sink.report(false);
  auto retried = send(*request);
  ASSERT_TRUE(retried.deferred);
  sink.report(true);
  EXPECT_EQ(retried.deferred->take()->status, 200);
  EXPECT_EQ(send(*request).status, 401);
}

TEST_F(SignedProduceTest, AFullReplayCacheAnswersRetriable503) {
  ProduceSettings settings;
  settings.replay_cache_max_bytes = 16;  // less than one entry per shard
  ProduceGate tiny_gate{store, limiter, sink, settings};
  SingleRecordHandler tiny{tiny_gate};
  auto request = prepare("/v1/topics/events.a", "value", "nonce-full-000000001");
  http::RouteParams params;
  params.values[0] = "events.a";
  params.count = 1;
  const auto refused = tiny.handle(request->request(), params);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(code(refused), "server_busy");
  EXPECT_GT(refused.retry_after_s, 0u);
  EXPECT_EQ(tiny_gate.replay_stats().refused_full.load(), 1u);
  EXPECT_TRUE(sink.values.empty());
}

}  // namespace
}  // namespace intake::api
