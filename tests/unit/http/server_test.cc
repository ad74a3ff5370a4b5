// The HTTP server end to end on loopback, with a fake RecordSink behind the real handlers.
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/batch_handler.h"
#include "api/confluent_v2_handler.h"
#include "api/single_record_handler.h"
#include "config/store.h"
#include "crypto/digest.h"
#include "eventually.h"
#include "http_client.h"
#include "ops/health_handler.h"

namespace intake {
namespace {

using testing::HttpConnection;

// Every field a request thread touches is read and written under `mutex`: the server calls
// enqueue() on its own threads while the test body reads what was taken.
class FakeSink final : public kafka::RecordSink {
 public:
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    std::lock_guard lock(mutex);
    if (next_error && fail_after == 0) return *next_error;
    if (fail_after > 0) --fail_after;
    Stored stored{std::string(record.topic), std::string(record.key), std::string(record.value), record.partition, {}};
    for (const auto& header : record.headers) stored.headers.emplace_back(header.name, header.value);
    records.push_back(std::move(stored));
    if (record.listener != nullptr) {
      if (hold_reports) {
        held.push_back(record.listener);
      } else {
        // Report from another thread, as the producer's poller does.
        auto* listener = record.listener;
        // A record whose value is "kafka-refuses" fails, so a batch can mix outcomes.
        const auto report =
            record.value == "kafka-refuses"
                ? kafka::DeliveryReport{false, -1, -1, Error{ErrorCode::kRecordTooLarge, "the broker refused it"}}
                : next_report;
        std::thread([listener, report] { listener->on_delivery(report); }).detach();
      }
    }
    return {};
  }
  bool ready() const override { return is_ready; }

  struct Stored {
    std::string topic, key, value;
    std::int32_t partition;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  std::vector<Stored> taken() const {
    std::lock_guard lock(mutex);
    return records;
  }
  std::vector<kafka::DeliveryListener*> held_listeners() const {
    std::lock_guard lock(mutex);
    return held;
  }
  // Set up before requests are sent; read by enqueue() under the lock.
  void fail_with(Error error, int after = 0) {
    std::lock_guard lock(mutex);
    next_error = std::move(error);
    fail_after = after;
  }
  void set_report(kafka::DeliveryReport report) {
    std::lock_guard lock(mutex);
    next_report = std::move(report);
  }
  void hold(bool on) {
    std::lock_guard lock(mutex);
    hold_reports = on;
  }
  std::atomic<bool> is_ready{true};

 private:
  mutable std::mutex mutex;
  kafka::DeliveryReport next_report{true, 2, 41, {}};
  bool hold_reports = false;
  std::vector<kafka::DeliveryListener*> held;
  std::vector<Stored> records;
  std::optional<Error> next_error;
  int fail_after = 0;  // with next_error: accept this many records first
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    auto config = std::make_shared<config::Config>();
    config::ApiKey key;
    key.id = "team";
    key.secret_sha256 = crypto::sha256("good-key");
    key.topic_patterns = {"events.*"};
    config->keys.emplace(key.secret_sha256, key);
    store.publish(config);
    router.add(http::Method::kPost, "/v1/topics/{topic}", single_record);
    router.add(http::Method::kPost, "/v1/topics/{topic}/records", batch);
    router.add(http::Method::kPost, api::kConfluentV2TopicRoute, confluent_v2);
    router.add(http::Method::kGet, "/healthz", liveness);
    router.add(http::Method::kGet, "/readyz", readiness);
    settings.address = "127.0.0.1";
    settings.port = 0;
    settings.threads = 2;
    settings.max_body_bytes = 1024;
    server = std::make_unique<http::HttpServer>(settings, router);
    server->start();
  }

  HttpConnection connect() { return HttpConnection("127.0.0.1", server->port()); }
  static std::vector<std::pair<std::string, std::string>> auth() { return {{"Authorization", "Bearer good-key"}}; }

  config::ConfigStore store;
  policy::RateLimiter limiter;
  FakeSink sink;
  std::atomic<bool> draining{false};
  api::ProduceGate gate{store, limiter, sink, api::ProduceSettings{{"X-Request-Id"}, /*sync_timeout_ms=*/300}};
  api::SingleRecordHandler single_record{gate};
  api::BatchHandler batch{gate};
  api::ConfluentV2Handler confluent_v2{gate};
  ops::HealthHandler liveness{ops::HealthHandler::Probe::kLiveness, sink, draining};
  ops::HealthHandler readiness{ops::HealthHandler::Probe::kReadiness, sink, draining};
  http::Router router;
  http::ServerOptions settings;
  std::unique_ptr<http::HttpServer> server;
};

TEST_F(ServerTest, AcceptsARecordWith202AndHandsItToTheSink) {
  auto connection = connect();
  const auto reply = connection.request("POST", "/v1/topics/events.click", "hello",
                                        {{"Authorization", "Bearer good-key"}, {"X-Intake-Record-Key", "user-7"}});
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, R"({"accepted":1})");
  EXPECT_EQ(reply.header("content-type"), "application/json");
  ASSERT_EQ(sink.taken().size(), 1u);
  EXPECT_EQ(sink.taken()[0].topic, "events.click");
  EXPECT_EQ(sink.taken()[0].key, "user-7");
  EXPECT_EQ(sink.taken()[0].value, "hello");
}

TEST_F(ServerTest, SyncRequestsAnswerWithPartitionAndOffsetAfterTheReport) {
  auto connection = connect();
  auto reply = connection.request("POST", "/v1/topics/events.a?sync=true", "v",
                                  {{"Authorization", "Bearer good-key"}, {"X-Intake-Partition", "2"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"topic":"events.a","partition":2,"offset":41})");
  reply = connection.request("POST", "/v1/topics/events.b", "v",
                             {{"Authorization", "Bearer good-key"}, {"X-Intake-Sync", "true"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(connection.request("POST", "/v1/topics/events.c", "v", auth()).status, 202);  // async by default
  ASSERT_EQ(sink.taken().size(), 3u);
  EXPECT_EQ(sink.taken()[0].partition, 2);
  EXPECT_EQ(sink.taken()[1].partition, -1);
}

TEST_F(ServerTest, SyncDeliveryFailureAndTimeoutAreReported) {
  sink.set_report(kafka::DeliveryReport{false, -1, -1, Error{ErrorCode::kDeliveryFailed, "broker said no"}});
  auto reply = testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a?sync=1", "v", auth());
  EXPECT_EQ(reply.status, 502);
  EXPECT_NE(reply.body.find("delivery_failed"), std::string::npos);
  sink.hold(true);  // Kafka never answers within the 300 ms sync timeout
  reply = testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a?sync=true", "v", auth());
  EXPECT_EQ(reply.status, 504);
  EXPECT_NE(reply.body.find("delivery_timeout"), std::string::npos);
  // A late report after the timeout is harmless.
  for (auto* listener : sink.held_listeners()) listener->on_delivery({true, 0, 1, {}});
}

TEST_F(ServerTest, ConfluentV2SyncTimeoutIsAnsweredInV2Form) {
  sink.hold(true);  // Kafka never answers within the 300 ms sync timeout
  auto headers = auth();
  headers.emplace_back("Content-Type", "application/vnd.kafka.json.v2+json");
  auto reply = testing::http_request("127.0.0.1", server->port(), "POST", "/topics/events.a",
                                     R"({"records":[{"value":"v"}]})", headers);
  EXPECT_EQ(reply.status, 504);
  EXPECT_EQ(reply.header("content-type"), "application/vnd.kafka.v2+json");
  EXPECT_NE(reply.body.find(R"("error_code":504)"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"delivery_timeout")"), std::string::npos) << reply.body;
  for (auto* listener : sink.held_listeners()) listener->on_delivery({true, 0, 1, {}});
}

TEST_F(ServerTest, BadSyncOrPartitionValuesAre400) {
  EXPECT_EQ(
      testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a?sync=maybe", "v", auth()).status,
      400);
  EXPECT_EQ(testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a", "v",
                                  {{"Authorization", "Bearer good-key"}, {"X-Intake-Partition", "-3"}})
                .status,
            400);
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, RecordsCarryConfiguredHeadersAndWhoSentThemWhen) {
  const auto reply = testing::http_request(
      "127.0.0.1", server->port(), "POST", "/v1/topics/events.a", "v",
      {{"Authorization", "Bearer good-key"}, {"X-Request-Id", "req-9"}, {"X-Other", "not copied"}});
  ASSERT_EQ(reply.status, 202);
  ASSERT_EQ(sink.taken().size(), 1u);
  const auto taken = sink.taken();
  const auto& headers = taken[0].headers;
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"X-Request-Id", "req-9"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"intake-key-id", "team"}));
  EXPECT_EQ(headers[2].first, "intake-received-at");
  EXPECT_GT(std::stoll(headers[2].second), 1'700'000'000'000LL);
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto connection = connect();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(connection.request("POST", "/v1/topics/events.a", "r" + std::to_string(i), auth()).status, 202);
  }
  EXPECT_EQ(sink.taken().size(), 50u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto connection = connect();
  std::string burst;
  burst += testing::build_request("POST", "/v1/topics/events.a", "one", auth());
  burst += testing::build_request("GET", "/nope", "", {});
  burst += testing::build_request("POST", "/v1/topics/events.b", "two", {{"Authorization", "Bearer bad"}});
  burst += testing::build_request("POST", "/v1/topics/events.c", "three", auth());
  connection.send_raw(burst);
  EXPECT_EQ(connection.read_reply().status, 202);
  EXPECT_EQ(connection.read_reply().status, 404);
  EXPECT_EQ(connection.read_reply().status, 401);
  EXPECT_EQ(connection.read_reply().status, 202);
  ASSERT_EQ(sink.taken().size(), 2u);
  EXPECT_EQ(sink.taken()[0].value, "one");
  EXPECT_EQ(sink.taken()[1].value, "three");
}

TEST_F(ServerTest, ErrorsAreJsonWithStableCodes) {
  auto connection = connect();
  struct Case {
    std::string method, target, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/topics/events.a", "x", {}, 401, "missing_api_key"},
      {"POST", "/v1/topics/events.a", "x", {{"Authorization", "Bearer wrong"}}, 401, "invalid_api_key"},
      {"POST", "/v1/topics/billing", "x", auth(), 403, "topic_not_allowed"},
      {"POST", "/v1/topics/bad%20name", "x", auth(), 400, "invalid_topic"},
      {"POST", "/v1/topics/events.a", "", auth(), 400, "empty_body"},
      {"GET", "/v1/topics/events.a", "", auth(), 405, "method_not_allowed"},
      {"GET", "/v2/nothing", "", {}, 404, "not_found"},
  };
  for (const auto& c : cases) {
    const auto reply = connection.request(c.method, c.target, c.body, c.headers);
    EXPECT_EQ(reply.status, c.status) << c.target;
    EXPECT_EQ(reply.header("content-type"), "application/json") << c.target;
    EXPECT_NE(reply.body.find(R"({"error":{"code":")" + c.code + R"(","message":")"), std::string::npos) << reply.body;
  }
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, MethodNotAllowedListsAllowedMethods) {
  const auto reply = testing::http_request("127.0.0.1", server->port(), "DELETE", "/v1/topics/events.a");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.header("allow"), "POST");
}

TEST_F(ServerTest, OversizedBodyIsRejectedFromItsContentLengthBeforeBeingRead) {
  auto connection = connect();
  // Only the header is sent: the server must answer without waiting for 5000 body bytes.
  connection.send_raw(
      "POST /v1/topics/events.a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good-key\r\n"
      "Content-Length: 5000\r\n\r\n");
  const auto reply = connection.read_reply(5'000);
  EXPECT_EQ(reply.status, 413);
  EXPECT_NE(reply.body.find("payload_too_large"), std::string::npos);
  EXPECT_NE(reply.body.find("1024"), std::string::npos);
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, OversizedChunkedBodyIsRejected) {
  auto connection = connect();
  std::string chunk(2000, 'x');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", chunk.size());
  connection.send_raw(std::string("POST /v1/topics/events.a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good-key\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n") +
                      size + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(connection.read_reply().status, 413);
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  auto connection = connect();
  connection.send_raw(
      "POST /v1/topics/events.a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good-key\r\n"
      "Expect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(connection.read_reply().status, 100);
  connection.send_raw("body");
  EXPECT_EQ(connection.read_reply().status, 202);
  ASSERT_EQ(sink.taken().size(), 1u);
  EXPECT_EQ(sink.taken()[0].value, "body");
}

TEST_F(ServerTest, KeyAndRightsAreSettledFromTheHeadersBeforeContinueOrTheBody) {
  // An unknown key, a missing key and a topic outside the key's rights: each answered from the
  // headers, with no 100 Continue, while the announced body never comes.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Authorization: Bearer wrong-key\r\n", "invalid_api_key"},
      {"", "missing_api_key"},
      {"Authorization: Bearer good-key\r\n", "topic_not_allowed"},
  };
  for (const auto& [auth_line, code] : cases) {
    auto connection = connect();
    const std::string topic = code == "topic_not_allowed" ? "other.a" : "events.a";
    connection.send_raw("POST /v1/topics/" + topic + " HTTP/1.1\r\nHost: x\r\n" + auth_line +
                        "Expect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
    const auto reply = connection.read_reply();
    EXPECT_NE(reply.status, 100) << code;
    EXPECT_NE(reply.body.find(code), std::string::npos) << reply.body;
    EXPECT_EQ(reply.header("connection"), "close") << code;
  }
  // The batch route checks the same way.
  auto connection = connect();
  connection.send_raw(
      "POST /v1/topics/events.a/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-key\r\n"
      "Content-Length: 1000\r\n\r\n");
  EXPECT_EQ(connection.read_reply().status, 401);
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, MalformedRequestGets400AndTheConnectionCloses) {
  auto connection = connect();
  connection.send_raw("THIS IS NOT HTTP\r\n\r\n");
  const auto reply = connection.read_reply();
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("bad_request"), std::string::npos);
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTest, SinkErrorsReachTheClient) {
  sink.fail_with(Error{ErrorCode::kKafkaUnavailable, "down"});
  auto reply = testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a", "x", auth());
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.header("retry-after"), "5");
  sink.fail_with(Error{ErrorCode::kBackpressure, "full"});
  reply = testing::http_request("127.0.0.1", server->port(), "POST", "/v1/topics/events.a", "x", auth());
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.header("retry-after"), "1");
}

TEST_F(ServerTest, ReadinessFollowsTheSinkAndDraining) {
  EXPECT_EQ(testing::http_request("127.0.0.1", server->port(), "GET", "/readyz").status, 200);
  sink.is_ready = false;
  EXPECT_EQ(testing::http_request("127.0.0.1", server->port(), "GET", "/readyz").status, 503);
  sink.is_ready = true;
  draining = true;
  EXPECT_EQ(testing::http_request("127.0.0.1", server->port(), "GET", "/readyz").status, 503);
  EXPECT_EQ(testing::http_request("127.0.0.1", server->port(), "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, Http10ClosesAfterTheResponse) {
  auto connection = connect();
  connection.send_raw("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(connection.read_reply().status, 200);
  EXPECT_TRUE(connection.closed_by_peer());
}

TEST_F(ServerTest, DrainingWaitsForRequestsInFlightAndClosesTheirConnections) {
  sink.hold(true);
  auto connection = connect();
  connection.send_raw(testing::build_request("POST", "/v1/topics/events.a?sync=true", "v", auth()));
  ASSERT_TRUE([&] {
    for (int i = 0; i < 200 && sink.held_listeners().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return !sink.held_listeners().empty();
  }());
  server->stop_accepting();
  EXPECT_EQ(server->active_requests(), 1);
  EXPECT_FALSE(server->wait_idle(std::chrono::milliseconds(50)));  // the sync request is still waiting
  sink.held_listeners().front()->on_delivery({true, 0, 7, {}});
  const auto reply = connection.read_reply();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("connection"), "close");
  EXPECT_TRUE(server->wait_idle(std::chrono::milliseconds(1000)));
  EXPECT_TRUE(connection.closed_by_peer());
}

// The listeners (one per thread) close on their own threads, so until the last one has, a
// new connection may still be served, or be reset if it was waiting in the backlog of one
// that closed. Then every new connection is refused (ECONNREFUSED). None may be left hanging
// unanswered (a timeout) or be closed without a word.
TEST_F(ServerTest, StopAcceptingRefusesNewConnections) {
  server->stop_accepting();
  const std::string request = testing::build_request("GET", "/healthz", "", {});
  std::vector<testing::RequestFate> fates;
  ASSERT_TRUE(testing::eventually(
      [&] {
        fates.push_back(testing::try_request("127.0.0.1", server->port(), request).fate);
        return fates.back() == testing::RequestFate::kRefused;
      },
      std::chrono::seconds(5)))
      << testing::fate_name(fates.back());
  for (const auto fate : fates) {
    EXPECT_TRUE(fate == testing::RequestFate::kAnswered || fate == testing::RequestFate::kReset ||
                fate == testing::RequestFate::kRefused)
        << testing::fate_name(fate);
  }
  EXPECT_EQ(testing::try_request("127.0.0.1", server->port(), request).fate, testing::RequestFate::kRefused);
}

TEST_F(ServerTest, ABatchProducesEveryLineWithItsOwnKeyAndPartition) {
  auto connection = connect();
  const std::string body =
      "{\"value\":\"a\",\"key\":\"user-1\"}\n"
      "{\"value\":{\"x\":1, \"y\":[true]},\"partition\":2}\r\n"
      "\n"
      "{\"key\":\"user-3\",\"value\":\"c\"}";
  const auto reply = connection.request("POST", "/v1/topics/events.batch/records", body, auth());
  EXPECT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.body, R"({"accepted":3})");
  ASSERT_EQ(sink.taken().size(), 3u);
  EXPECT_EQ(sink.taken()[0].value, "a");
  EXPECT_EQ(sink.taken()[0].key, "user-1");
  EXPECT_EQ(sink.taken()[0].partition, -1);
  EXPECT_EQ(sink.taken()[1].value, R"({"x":1,"y":[true]})");  // a JSON value is the record, minified
  EXPECT_EQ(sink.taken()[1].key, "");
  EXPECT_EQ(sink.taken()[1].partition, 2);
  EXPECT_EQ(sink.taken()[2].key, "user-3");
  EXPECT_EQ(sink.taken()[2].topic, "events.batch");
}

TEST_F(ServerTest, ABadLineRejectsTheWholeBatchAndNamesTheLine) {
  auto connection = connect();
  for (const auto& [body, expected] : std::vector<std::pair<std::string, std::string>>{
           {"{\"value\":\"ok\"}\n{\"value\":", "line 2: not valid JSON"},
           {"{\"value\":\"ok\"}\n{\"valeu\":\"x\"}", "line 2: unknown field"},
           {"[1,2]", "record 1: expected an object"},
           {"{\"key\":\"k\"}", "value\\\" is missing"},
           {"{\"value\":\"v\",\"partition\":-1}", "line 1: \\\"partition\\\" must be"},
           {"\n\n", "the batch holds no record"}}) {
    const auto reply = connection.request("POST", "/v1/topics/events.batch/records", body, auth());
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_NE(reply.body.find(expected), std::string::npos) << reply.body;
  }
  EXPECT_TRUE(sink.taken().empty());
}

TEST_F(ServerTest, ABatchRefusedMidwaySaysHowManyRecordsWereAccepted) {
  sink.fail_with(Error{ErrorCode::kBackpressure, "the gateway's Kafka queue is full"}, 2);
  auto connection = connect();
  const auto reply = connection.request("POST", "/v1/topics/events.batch/records",
                                        "{\"value\":\"1\"}\n{\"value\":\"2\"}\n{\"value\":\"3\"}", auth());
  EXPECT_EQ(reply.status, 429);
  EXPECT_NE(reply.body.find(R"("code":"backpressure")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("accepted":2})"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("resend from record 3"), std::string::npos) << reply.body;
}

TEST_F(ServerTest, ASyncBatchAnswersEveryRecordsPartitionAndOffset) {
  auto connection = connect();
  const auto reply = connection.request("POST", "/v1/topics/events.batch/records?sync=true",
                                        R"([{"value":"1"},{"value":"2","headers":{"trace":"t"}}])", auth());
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body,
            R"({"delivered":2,"failed":0,"records":[{"partition":2,"offset":41},{"partition":2,"offset":41}]})");
  const auto taken = sink.taken();
  ASSERT_EQ(taken.size(), 2u);
  ASSERT_FALSE(taken[1].headers.empty());
  EXPECT_EQ(taken[1].headers[0], (std::pair<std::string, std::string>{"trace", "t"}));
  EXPECT_EQ(taken[1].headers.back().first, "intake-received-at");
}

TEST_F(ServerTest, ASyncBatchReportsEachRecordKafkaRefusedBesideTheDeliveredOnes) {
  auto connection = connect();
  auto reply = connection.request("POST", "/v1/topics/events.batch/records?sync=true",
                                  "{\"value\":\"1\"}\n{\"value\":\"kafka-refuses\"}\n", auth());
  EXPECT_EQ(reply.status, 207) << reply.body;
  EXPECT_EQ(reply.body, R"({"delivered":1,"failed":1,"records":[{"partition":2,"offset":41},)"
                        R"({"error":{"code":"record_too_large","message":"the broker refused it"}}]})");
  // Nothing delivered: the first error's status, with the error on top.
  reply =
      connection.request("POST", "/v1/topics/events.batch/records?sync=true", R"([{"value":"kafka-refuses"}])", auth());
  EXPECT_EQ(reply.status, 413) << reply.body;
  EXPECT_EQ(reply.body.rfind(R"({"error":{"code":"record_too_large")", 0), 0u) << reply.body;
}

TEST_F(ServerTest, ASyncBatchRefusedAtHandOverReportsThatRecord) {
  sink.fail_with(Error{ErrorCode::kBackpressure, "the gateway's Kafka queue is full"}, 1);
  auto connection = connect();
  const auto reply = connection.request("POST", "/v1/topics/events.batch/records?sync=true",
                                        R"([{"value":"1"},{"value":"2"}])", auth());
  EXPECT_EQ(reply.status, 207) << reply.body;
  EXPECT_NE(reply.body.find(R"({"error":{"code":"backpressure")"), std::string::npos) << reply.body;
}

TEST_F(ServerTest, ABatchWithAContentTypeItDoesNotReadIs415ListingTheAcceptedOnes) {
  auto connection = connect();
  auto headers = auth();
  headers.emplace_back("Content-Type", "text/csv");
  auto reply = connection.request("POST", "/v1/topics/events.batch/records", "{\"value\":\"1\"}", headers);
  EXPECT_EQ(reply.status, 415) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"unsupported_media_type")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("application/x-ndjson, application/ndjson"), std::string::npos) << reply.body;
  headers.back().second = "Application/JSON; charset=utf-8";
  reply = connection.request("POST", "/v1/topics/events.batch/records", "[{\"value\":\"1\"}]", headers);
  EXPECT_EQ(reply.status, 202) << reply.body;
  EXPECT_TRUE(sink.taken().size() == 1u);
}

TEST_F(ServerTest, BasicAuthNamesTheKeyIdAndCarriesTheSecret) {
  auto connection = connect();
  // base64("team:good-key"), as curl -u team:good-key sends it.
  auto reply =
      connection.request("POST", "/v1/topics/events.click", "v", {{"Authorization", "Basic dGVhbTpnb29kLWtleQ=="}});
  EXPECT_EQ(reply.status, 202) << reply.body;
  // base64("other:good-key"): the secret is right but the name is not its key's id.
  reply = connection.request("POST", "/v1/topics/events.click", "v", {{"Authorization", "Basic b3RoZXI6Z29vZC1rZXk="}});
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_NE(reply.body.find("the Basic user name must be the id of the key"), std::string::npos) << reply.body;
  reply = connection.request("POST", "/v1/topics/events.click", "v", {{"Authorization", "Basic !!!"}});
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_NE(reply.body.find("base64('<key id>:<api key>')"), std::string::npos) << reply.body;
  EXPECT_EQ(sink.taken().size(), 1u);
}

}  // namespace
}  // namespace intake
