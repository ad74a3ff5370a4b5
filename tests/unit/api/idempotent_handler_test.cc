// IdempotentHandler around a fake produce handler: which requests reach it, what a retry
// gets, and sync (deferred) answers.
#include "api/idempotent_handler.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace intake::api {
namespace {

class Headers final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    auto it = values.find(std::string(name));
    return it == values.end() ? std::string_view() : std::string_view(it->second);
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    for (const auto& [name, value] : values) visit(name, value);
  }
  std::map<std::string, std::string> values;
};

// Answers with `next` (a fresh copy each call) and counts calls.
class FakeProduce final : public http::Handler {
 public:
  std::optional<http::Response> check_headers(const http::Request&, const http::RouteParams&) override {
    ++header_checks;
    return std::nullopt;
  }
  http::Response handle(const http::Request& request, const http::RouteParams&) override {
    ++calls;
    if (deferred) {
      pending = std::make_shared<http::DeferredResponse>();
      http::Response response;
      response.deferred = pending;
      response.deferred_timeout_ms = 1234;
      return response;
    }
    http::Response response;
    response.status = status;
    response.body = "produced:" + std::string(request.body) + ":" + std::to_string(calls);
    return response;
  }
  int calls = 0;
  int header_checks = 0;
  int status = 202;
  bool deferred = false;
  std::shared_ptr<http::DeferredResponse> pending;
};

class IdempotentHandlerTest : public ::testing::Test {
 protected:
  IdempotentHandlerTest()
      : cache(std::make_shared<IdempotencyCache>()),
        handler(inner, cache, [](const http::Request& request) -> std::optional<std::string> {
          auto key = request.header("X-Intake-Key");
          if (key.empty()) return std::nullopt;
          return "id-" + std::string(key);
        }) {
    headers.values["X-Intake-Key"] = "alice";
  }

  http::Response send(std::string_view body, std::string_view path = "/v1/topics/t") {
    http::Request request;
    request.method = http::Method::kPost;
    request.path = path;
    request.body = body;
    request.headers = &headers;
    return handler.handle(request, params);
  }

  FakeProduce inner;
  std::shared_ptr<IdempotencyCache> cache;
  IdempotentHandler handler;
  Headers headers;
  http::RouteParams params;
};

TEST_F(IdempotentHandlerTest, WithoutTheHeaderEveryRequestReachesTheInnerHandler) {
  EXPECT_EQ(send("x").body, "produced:x:1");
  EXPECT_EQ(send("x").body, "produced:x:2");
  EXPECT_EQ(cache->stats().entries.load(), 0);
}

TEST_F(IdempotentHandlerTest, CheckHeadersDelegates) {
  http::Request request;
  EXPECT_FALSE(handler.check_headers(request, params).has_value());
  EXPECT_EQ(inner.header_checks, 1);
}

TEST_F(IdempotentHandlerTest, RetryReplaysTheFirstAnswer) {
  headers.values["Idempotency-Key"] = "order-42";
  const auto first = send("x");
  const auto retry = send("x");
  EXPECT_EQ(inner.calls, 1);
  EXPECT_EQ(retry.status, first.status);
  EXPECT_EQ(retry.body, first.body);
}

TEST_F(IdempotentHandlerTest, SameKeyOtherBodyIs422) {
  headers.values["Idempotency-Key"] = "order-42";
  send("x");
  const auto other = send("y");
  EXPECT_EQ(other.status, 422);
  EXPECT_NE(other.body.find("idempotency_key_reused"), std::string::npos);
  EXPECT_EQ(inner.calls, 1);
}

TEST_F(IdempotentHandlerTest, OtherCallersKeysAreTheirOwn) {
  headers.values["Idempotency-Key"] = "order-42";
  send("x");
  headers.values["X-Intake-Key"] = "bob";
  EXPECT_EQ(send("y").status, 202);
  EXPECT_EQ(inner.calls, 2);
}

TEST_F(IdempotentHandlerTest, ErrorAnswersAreNotReplayed) {
  headers.values["Idempotency-Key"] = "order-42";
  inner.status = 503;
  EXPECT_EQ(send("x").status, 503);
  inner.status = 202;
  EXPECT_EQ(send("x").status, 202);
  EXPECT_EQ(inner.calls, 2);
}

TEST_F(IdempotentHandlerTest, InvalidHeaderIs400) {
  for (const std::string& bad :
       {std::string("has space"), std::string(256, 'k'), std::string("tab\tkey"), std::string("caf\xc3\xa9")}) {
    headers.values["Idempotency-Key"] = bad;
    const auto response = send("x");
    EXPECT_EQ(response.status, 400) << bad;
    EXPECT_NE(response.body.find("Idempotency-Key"), std::string::npos);
  }
  EXPECT_EQ(inner.calls, 0);
  EXPECT_TRUE(valid_idempotency_key(std::string(255, '~')));
  EXPECT_TRUE(valid_idempotency_key("!"));
}

TEST_F(IdempotentHandlerTest, UnauthenticatedRequestGoesToTheInnerHandler) {
  headers.values.erase("X-Intake-Key");
  headers.values["Idempotency-Key"] = "order-42";
  send("x");
  send("x");
  EXPECT_EQ(inner.calls, 2);
}

TEST_F(IdempotentHandlerTest, DeferredAnswerIsCachedOnceItCompletes) {
  headers.values["Idempotency-Key"] = "sync-1";
  inner.deferred = true;
  auto first = send("x");
  ASSERT_TRUE(first.deferred);
  EXPECT_NE(first.deferred, inner.pending);
  EXPECT_EQ(first.deferred_timeout_ms, 1234u);

  // While Kafka has not answered, a retry is told to wait.
  const auto early = send("x");
  EXPECT_EQ(early.status, 409);
  EXPECT_EQ(early.retry_after_s, 1u);

  bool woken = false;
  EXPECT_FALSE(first.deferred->set_waker([&] { woken = true; }));
  inner.pending->complete(http::json_response(200, R"({"topic":"t","partition":0,"offset":7})"));
  EXPECT_TRUE(woken);
  auto delivered = first.deferred->take();
  ASSERT_TRUE(delivered);
  EXPECT_EQ(delivered->status, 200);

  const auto retry = send("x");
  EXPECT_FALSE(retry.deferred);
  EXPECT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body, R"({"topic":"t","partition":0,"offset":7})");
  EXPECT_EQ(inner.calls, 1);
}

TEST_F(IdempotentHandlerTest, DeferredAnswerAlreadyThereIsReturnedAtOnce) {
  headers.values["Idempotency-Key"] = "sync-2";
  inner.deferred = true;
  // The fake completes the deferred answer before the decorator sees it.
  class Immediate final : public http::Handler {
   public:
    http::Response handle(const http::Request&, const http::RouteParams&) override {
      auto pending = std::make_shared<http::DeferredResponse>();
      pending->complete(http::json_response(200, "{\"offset\":1}"));
      http::Response response;
      response.deferred = pending;
      return response;
    }
  } immediate;
  IdempotentHandler wrapped(immediate, cache, [](const http::Request&) { return std::optional<std::string>("id"); });
  http::Request request;
  request.body = "x";
  request.headers = &headers;
  const auto response = wrapped.handle(request, params);
  EXPECT_FALSE(response.deferred);
  EXPECT_EQ(response.body, "{\"offset\":1}");
  EXPECT_EQ(wrapped.handle(request, params).body, "{\"offset\":1}");
}

TEST_F(IdempotentHandlerTest, FailedDeferredAnswerIsNotCached) {
  headers.values["Idempotency-Key"] = "sync-3";
  inner.deferred = true;
  auto first = send("x");
  inner.pending->complete(http::error_response(Error{ErrorCode::kBackpressure, "full"}));
  auto second = send("x");
  EXPECT_TRUE(second.deferred);
  EXPECT_EQ(inner.calls, 2);
}

}  // namespace
}  // namespace intake::api
