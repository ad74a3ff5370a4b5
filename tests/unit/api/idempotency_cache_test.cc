// The idempotency cache on its own: outcomes of begin(), what complete() keeps, expiry, the
// byte budget, and many threads at once.
#include "api/idempotency_cache.h"

#include "api/idempotency_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "crypto/digest.h"

namespace intake::api {
namespace {

using Clock = IdempotencyCache::Clock;
using Outcome = IdempotencyCache::Outcome;

http::Response answer(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

class IdempotencyCacheTest : public ::testing::Test {
 protected:
  const Clock::time_point t0 = Clock::now();
  const crypto::Sha256 body_a = crypto::sha256("a");
  const crypto::Sha256 body_b = crypto::sha256("b");
};

TEST_F(IdempotencyCacheTest, FreshThenReplayReturnsTheStoredAnswer) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/v1/topics/t", t0);
  ASSERT_EQ(first.outcome, Outcome::kFresh);
  auto stored = answer(202, R"({"accepted":1})");
  stored.retry_after_s = 0;
  cache.complete("key-1", "k", first.ticket, stored, t0);

  auto again = cache.begin("key-1", "k", body_a, "/v1/topics/t", t0 + std::chrono::seconds(1));
  ASSERT_EQ(again.outcome, Outcome::kReplay);
  EXPECT_EQ(again.response.status, 202);
  EXPECT_EQ(again.response.body, R"({"accepted":1})");
  EXPECT_EQ(again.response.content_type, "application/json");
  EXPECT_EQ(cache.stats().replays.load(), 1u);
  EXPECT_EQ(cache.stats().entries.load(), 1);
}

TEST_F(IdempotencyCacheTest, SameKeyWithOtherBodyOrPathIsAMismatch) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/v1/topics/t", t0);
  cache.complete("key-1", "k", first.ticket, answer(200, "{}"), t0);
  EXPECT_EQ(cache.begin("key-1", "k", body_b, "/v1/topics/t", t0).outcome, Outcome::kMismatch);
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/v1/topics/other", t0).outcome, Outcome::kMismatch);
  EXPECT_EQ(cache.stats().mismatches.load(), 2u);
}

TEST_F(IdempotencyCacheTest, EntriesArePerCaller) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/p", t0);
  cache.complete("key-1", "k", first.ticket, answer(200, "{}"), t0);
  EXPECT_EQ(cache.begin("key-2", "k", body_b, "/p", t0).outcome, Outcome::kFresh);
}

TEST_F(IdempotencyCacheTest, InFlightEntryAnswersInProgress) {
  IdempotencyCache cache;
  ASSERT_EQ(cache.begin("key-1", "k", body_a, "/p", t0).outcome, Outcome::kFresh);
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/p", t0).outcome, Outcome::kInProgress);
  EXPECT_EQ(cache.stats().in_progress.load(), 1u);
}

TEST_F(IdempotencyCacheTest, NonSuccessAnswerIsNotKept) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/p", t0);
  cache.complete("key-1", "k", first.ticket, answer(503, "{}"), t0);
  EXPECT_EQ(cache.stats().entries.load(), 0);
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/p", t0).outcome, Outcome::kFresh);
}

TEST_F(IdempotencyCacheTest, AbandonLetsARetryRunAgain) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/p", t0);
  cache.abandon("key-1", "k", first.ticket);
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/p", t0).outcome, Outcome::kFresh);
}

TEST_F(IdempotencyCacheTest, EntriesExpireAfterTheWindow) {
  IdempotencyCache cache(IdempotencySettings{.window = std::chrono::seconds(10)});
  auto first = cache.begin("key-1", "k", body_a, "/p", t0);
  cache.complete("key-1", "k", first.ticket, answer(200, "{}"), t0);
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/p", t0 + std::chrono::seconds(9)).outcome, Outcome::kReplay);
  EXPECT_EQ(cache.begin("key-1", "k", body_b, "/p", t0 + std::chrono::seconds(10)).outcome, Outcome::kFresh);

  // An answer that never comes does not hold the key beyond the window either.
  cache.begin("key-1", "stuck", body_a, "/p", t0);
  EXPECT_EQ(cache.begin("key-1", "stuck", body_a, "/p", t0 + std::chrono::seconds(11)).outcome, Outcome::kFresh);
}

TEST_F(IdempotencyCacheTest, StaleTicketDoesNotOverwriteANewerEntry) {
  IdempotencyCache cache(IdempotencySettings{.window = std::chrono::seconds(10)});
  auto old = cache.begin("key-1", "k", body_a, "/p", t0);
  auto fresh = cache.begin("key-1", "k", body_a, "/p", t0 + std::chrono::seconds(20));
  ASSERT_EQ(fresh.outcome, Outcome::kFresh);
  cache.complete("key-1", "k", old.ticket, answer(200, "old"), t0 + std::chrono::seconds(21));
  EXPECT_EQ(cache.begin("key-1", "k", body_a, "/p", t0 + std::chrono::seconds(21)).outcome, Outcome::kInProgress);
}

TEST_F(IdempotencyCacheTest, ByteBudgetEvictsLeastRecentlyUsed) {
  // One shard so the order is the cache's whole order; room for about two 1 KiB answers.
  IdempotencyCache cache(IdempotencySettings{.max_bytes = 2600, .shards = 1});
  const std::string big(1000, 'x');
  for (const char* key : {"a", "b"}) {
    auto begun = cache.begin("key-1", key, body_a, "/p", t0);
    cache.complete("key-1", key, begun.ticket, answer(200, big), t0);
  }
  ASSERT_EQ(cache.begin("key-1", "a", body_a, "/p", t0).outcome, Outcome::kReplay);  // a is now the most recent
  auto c = cache.begin("key-1", "c", body_a, "/p", t0);
  cache.complete("key-1", "c", c.ticket, answer(200, big), t0);

  EXPECT_EQ(cache.stats().evictions_done.load(), 1u);
  EXPECT_EQ(cache.begin("key-1", "a", body_a, "/p", t0).outcome, Outcome::kReplay);
  EXPECT_EQ(cache.begin("key-1", "c", body_a, "/p", t0).outcome, Outcome::kReplay);
  EXPECT_EQ(cache.begin("key-1", "b", body_a, "/p", t0).outcome, Outcome::kFresh);  // b was evicted
  EXPECT_LE(cache.stats().bytes.load(), 2600 + 1200);
}

TEST_F(IdempotencyCacheTest, EvictingAnInFlightEntryIsCounted) {
  IdempotencyCache cache(IdempotencySettings{.max_bytes = 1500, .shards = 1});
  auto inflight = cache.begin("key-1", "a", body_a, "/p", t0);
  auto b = cache.begin("key-1", "b", body_a, "/p", t0);
  cache.complete("key-1", "b", b.ticket, answer(200, std::string(1400, 'x')), t0);
  EXPECT_EQ(cache.stats().evictions_in_flight.load(), 1u);
  cache.complete("key-1", "a", inflight.ticket, answer(200, "{}"), t0);  // gone: ignored
  EXPECT_EQ(cache.begin("key-1", "a", body_a, "/p", t0).outcome, Outcome::kFresh);
}

TEST_F(IdempotencyCacheTest, ManyThreadsBeginAndComplete) {
  IdempotencyCache cache(IdempotencySettings{.max_bytes = 64 * 1024, .shards = 4});
  std::atomic<int> fresh{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = std::to_string(i % 97);
        const auto now = Clock::now();
        auto begun = cache.begin(t % 2 ? "key-1" : "key-2", key, body_a, "/p", now);
        if (begun.outcome != Outcome::kFresh) continue;
        fresh.fetch_add(1);
        if (i % 5 == 0) {
          cache.abandon(t % 2 ? "key-1" : "key-2", key, begun.ticket);
        } else {
          cache.complete(t % 2 ? "key-1" : "key-2", key, begun.ticket,
                         answer(i % 7 ? 200 : 500, std::string(i % 300, 'y')), now);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_GE(fresh.load(), 2 * 97);
  EXPECT_GE(cache.stats().entries.load(), 0);
  EXPECT_LE(cache.stats().entries.load(), 2 * 97);
  EXPECT_GE(cache.stats().bytes.load(), 0);
}

class TextSink final : public metrics::MetricSink {
 public:
  void sample(const metrics::MetricFamily& family, double value, std::string_view labels) override {
    text +=
        std::string(family.name) + "{" + std::string(labels) + "} " + std::to_string(static_cast<long>(value)) + "\n";
  }
  void histogram(const metrics::MetricFamily& /*family*/, const metrics::HistogramSample& /*histogram*/,
                 std::string_view /*labels*/) override {}
  std::string text;
};

TEST_F(IdempotencyCacheTest, MetricsReportTheStats) {
  IdempotencyCache cache;
  auto first = cache.begin("key-1", "k", body_a, "/p", t0);
  cache.complete("key-1", "k", first.ticket, answer(200, "{}"), t0);
  cache.begin("key-1", "k", body_a, "/p", t0);
  cache.begin("key-1", "k", body_b, "/p", t0);
  TextSink sink;
  write_idempotency_metrics(cache.stats(), sink);
  EXPECT_NE(sink.text.find("intake_idempotency_entries{} 1\n"), std::string::npos) << sink.text;
  EXPECT_NE(sink.text.find("intake_idempotency_replays_total{} 1\n"), std::string::npos);
  EXPECT_NE(sink.text.find("intake_idempotency_mismatches_total{} 1\n"), std::string::npos);
  EXPECT_NE(sink.text.find("intake_idempotency_evictions_total{state=\"in_flight\"} 0\n"), std::string::npos);
  EXPECT_EQ(idempotency_metric_families().size(), 6u);
}

}  // namespace
}  // namespace intake::api
