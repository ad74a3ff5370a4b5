#include "policy/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "config/store.h"
#include "crypto/digest.h"
#include "error/error.h"

namespace intake::policy {
namespace {

constexpr std::int64_t kT0 = 1'000'000'000'000;

config::ApiKey limited_key(std::string id, double per_sec, double burst, double bytes_per_sec = 0,
                           double bytes_burst = 0) {
  config::ApiKey key;
  key.id = std::move(id);
  key.secret_sha256 = crypto::sha256("secret-of-" + key.id);
  key.rate = config::RateLimit{per_sec, burst, bytes_per_sec, bytes_burst};
  return key;
}

config::Config config_with(std::initializer_list<config::ApiKey> keys) {
  config::Config config;
  for (const auto& key : keys) config.keys.emplace(key.secret_sha256, key);
  return config;
}

// A limiter tracking one key, as the gateway's before_publish hook would.
struct OneKey {
  explicit OneKey(config::ApiKey k) : key(std::move(k)) { limiter.track(config_with({key})); }
  config::ApiKey key;
  RateLimiter limiter;
};

TEST(RateLimiter, AllowsTheBurstThenRefusesWithRetryAfterUntilRefilled) {
  OneKey one(limited_key("limited", /*per_sec=*/2, /*burst=*/3));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(one.limiter.admit(one.key, 1, 10, kT0)) << i;
  auto refused = one.limiter.admit(one.key, 1, 10, kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().retry_after_s, 1u);
  EXPECT_EQ(error_http_status(refused.error().code), 429);
  EXPECT_TRUE(one.limiter.admit(one.key, 1, 10, kT0 + 500'000'000));  // one token back after 1/2 s
  EXPECT_FALSE(one.limiter.admit(one.key, 1, 10, kT0 + 500'000'000));
  EXPECT_EQ(one.limiter.limited(), 2u);  // each refusal counted once
}

TEST(RateLimiter, ByteLimitRefusesAndGivesTheRecordTokenBack) {
  OneKey one(limited_key("limited", /*per_sec=*/1, /*burst=*/2, /*bytes_per_sec=*/100, /*bytes_burst=*/150));
  EXPECT_TRUE(one.limiter.admit(one.key, 1, 100, kT0));
  auto refused = one.limiter.admit(one.key, 1, 100, kT0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  // The refused request's record token came back: one record of the burst of 2 is left.
  EXPECT_TRUE(one.limiter.admit(one.key, 1, 1, kT0));
  auto never = one.limiter.admit(one.key, 1, 151, kT0 + 10'000'000'000);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(one.limiter.limited(), 1u);  // payload_too_large is not a rate-limited request
}

TEST(RateLimiter, ABatchTakesAllItsRecordsOrNone) {
  OneKey one(limited_key("limited", /*per_sec=*/1, /*burst=*/10));
  EXPECT_TRUE(one.limiter.admit(one.key, 6, 60, kT0));
  auto refused = one.limiter.admit(one.key, 5, 50, kT0);  // only 4 left: nothing is taken
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(one.limiter.admit(one.key, 4, 40, kT0));
  auto never = one.limiter.admit(one.key, 11, 110, kT0 + 100'000'000'000);  // larger than the burst itself
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(never.error().message.find("rate.burst"), std::string::npos);
}

TEST(RateLimiter, KeysWithoutARateAlwaysPassAndHoldNoBucket) {
  config::ApiKey free_key;
  free_key.id = "free";
  RateLimiter limiter;
  limiter.track(config_with({free_key}));
  EXPECT_EQ(limiter.tracked_keys(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.admit(free_key, 1, 1'000'000, 0));
}

TEST(RateLimiter, ABucketCarriesOverToTheNextVersionByKeyIdEvenWithANewSecret) {
  auto key = limited_key("team", /*per_sec=*/1, /*burst=*/2);
  RateLimiter limiter;
  limiter.track(config_with({key}));
  EXPECT_TRUE(limiter.admit(key, 2, 0, kT0));  // the burst is used up

  auto rotated = key;  // same id, new secret, raised burst: what was used stays used
  rotated.secret_sha256 = crypto::sha256("a-new-secret");
  rotated.rate->burst = 3;
  limiter.track(config_with({rotated, limited_key("other", 1, 1)}));
  EXPECT_EQ(limiter.tracked_keys(), 2u);
  EXPECT_TRUE(limiter.admit(rotated, 1, 0, kT0));  // only the one extra token of the raised burst
  EXPECT_FALSE(limiter.admit(rotated, 1, 0, kT0));
}

TEST(RateLimiter, AKeyThatLosesItsRateLosesItsBucket) {
  auto key = limited_key("team", /*per_sec=*/1, /*burst=*/1);
  RateLimiter limiter;
  limiter.track(config_with({key}));
  EXPECT_TRUE(limiter.admit(key, 1, 0, kT0));
  EXPECT_FALSE(limiter.admit(key, 1, 0, kT0));
  auto unlimited = key;
  unlimited.rate.reset();
  limiter.track(config_with({unlimited}));
  EXPECT_EQ(limiter.tracked_keys(), 0u);
  // Given a rate again later, the key starts with a full bucket.
  limiter.track(config_with({key}));
  EXPECT_TRUE(limiter.admit(key, 1, 0, kT0));
}

TEST(RateLimiter, TheStoreTracksEachVersionBeforeRequestsCanSeeIt) {
  config::ConfigStore store;
  RateLimiter limiter;
  std::size_t tracked_when_current = 0;
  store.before_publish([&](const config::Config& next) { limiter.track(next); });
  store.on_publish([&](const config::Config&) { tracked_when_current = limiter.tracked_keys(); });
  auto next = std::make_shared<config::Config>(config_with({limited_key("a", 1, 1), limited_key("b", 1, 1)}));
  store.publish(next);
  EXPECT_EQ(tracked_when_current, 2u);
  const auto* key = store.current()->find_key(crypto::sha256("secret-of-a"));
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(limiter.admit(*key, 1, 0, kT0));
  EXPECT_FALSE(limiter.admit(*key, 1, 0, kT0));
}

TEST(RateLimiter, TwoLimitersOnOneThreadKeepTheirOwnBuckets) {
  const auto key = limited_key("team", /*per_sec=*/0.001, /*burst=*/1);
  RateLimiter first;
  RateLimiter second;
  first.track(config_with({key}));
  second.track(config_with({key}));
  EXPECT_TRUE(first.admit(key, 1, 0, kT0));
  EXPECT_TRUE(second.admit(key, 1, 0, kT0));  // not the first limiter's table, cached on this thread
  EXPECT_FALSE(first.admit(key, 1, 0, kT0));
  EXPECT_FALSE(second.admit(key, 1, 0, kT0));
}

TEST(RateLimiter, AdmitsWhileVersionsArePublishedTakeExactlyTheBurst) {
  const auto key = limited_key("team", /*per_sec=*/0.001, /*burst=*/2000);
  RateLimiter limiter;
  limiter.track(config_with({key}));
  std::atomic<int> admitted{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> requesters;
  for (int t = 0; t < 3; ++t) {
    requesters.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 1000; ++i) {
        if (limiter.admit(key, 1, 0, kT0)) admitted.fetch_add(1);
      }
    });
  }
  go.store(true);
  // New versions with the same key id while requests run: the bucket carries over each time.
  for (int version = 0; version < 300; ++version) limiter.track(config_with({key, limited_key("other", 1, 1)}));
  for (auto& requester : requesters) requester.join();
  EXPECT_EQ(admitted.load(), 2000);  // 3,000 asked, the burst holds 2,000, no version reset it
}

}  // namespace
}  // namespace intake::policy
