#include "policy/access.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "error/error.h"
#include "policy/topic_name.h"

namespace intake::policy {
namespace {

int http_status_of(const Error& error) { return error_http_status(error.code); }

const auto kNow = std::chrono::system_clock::now();

config::Config config_with(std::string id, std::string secret, std::vector<std::string> topics, bool enabled) {
  config::Config config;
  config::ApiKey key;
  key.id = std::move(id);
  key.secret_sha256 = crypto::sha256(secret);
  key.topic_patterns = std::move(topics);
  key.enabled = enabled;
  config.keys.emplace(key.secret_sha256, key);
  return config;
}

TEST(PresentedKey, BearerWinsOverHeaderAndSchemeIsCaseInsensitive) {
  auto key = presented_key("bEaReR  secret-1 ", "secret-2");
  ASSERT_TRUE(key);
  EXPECT_EQ(key.value(), "secret-1");
  auto fallback = presented_key("", "secret-2");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback.value(), "secret-2");
}

TEST(PresentedKey, MissingOrNonBearerIsMissingApiKey) {
  EXPECT_EQ(presented_key("", "").error().code, ErrorCode::kMissingApiKey);
  EXPECT_EQ(presented_key("Basic dXNlcjpwYXNz", "").error().code, ErrorCode::kMissingApiKey);
  EXPECT_EQ(presented_key("Bearer ", "").error().code, ErrorCode::kMissingApiKey);
}

TEST(Authenticate, AcceptsTheRightSecretOnly) {
  const auto config = config_with("team-a", "s3cret", {"events.*"}, true);
  auto key = authenticate(config, "s3cret", kNow);
  ASSERT_TRUE(key);
  EXPECT_EQ(key.value()->id, "team-a");
  EXPECT_EQ(authenticate(config, "s3cret ", kNow).error().code, ErrorCode::kInvalidApiKey);
  EXPECT_EQ(authenticate(config, "", kNow).error().code, ErrorCode::kInvalidApiKey);
}

TEST(Authenticate, DisabledKeyIsForbiddenAndNamed) {
  const auto config = config_with("team-b", "s3cret", {"events.*"}, false);
  auto key = authenticate(config, "s3cret", kNow);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kKeyDisabled);
  EXPECT_NE(key.error().message.find("team-b"), std::string::npos);
}

TEST(Authenticate, ExpiredKeyIsRefusedFromItsExpiryOn) {
  auto config = config_with("temp", "s3cret", {"events.*"}, true);
  config.keys.begin()->second.expires_at = kNow + std::chrono::seconds(10);
  EXPECT_TRUE(authenticate(config, "s3cret", kNow));
  auto expired = authenticate(config, "s3cret", kNow + std::chrono::seconds(10));
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, ErrorCode::kKeyExpired);
  EXPECT_EQ(error_http_status(ErrorCode::kKeyExpired), 401);
}

config::ApiKey limited_key(double per_sec, double burst, double bytes_per_sec = 0, double bytes_burst = 0) {
  config::ApiKey key;
  key.id = "limited";
  key.rate = config::RateLimit{per_sec, burst, bytes_per_sec, bytes_burst};
  key.rate_state = std::make_shared<KeyRateState>();
  return key;
}

TEST(AdmitRate, AllowsTheBurstThenRefusesWithRetryAfterUntilRefilled) {
  const auto key = limited_key(/*per_sec=*/2, /*burst=*/3);
  const std::int64_t t0 = 1'000'000'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(admit_rate(key, 1, 10, t0)) << i;
  auto refused = admit_rate(key, 1, 10, t0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(refused.error().retry_after_s, 1u);
  EXPECT_EQ(http_status_of(refused.error()), 429);
  EXPECT_TRUE(admit_rate(key, 1, 10, t0 + 500'000'000));  // one token back after 1/2 s
  EXPECT_FALSE(admit_rate(key, 1, 10, t0 + 500'000'000));
}

TEST(AdmitRate, ByteLimitRefusesAndGivesTheRecordTokenBack) {
  const auto key = limited_key(/*per_sec=*/1000, /*burst=*/1000, /*bytes_per_sec=*/100, /*bytes_burst=*/150);
  const std::int64_t t0 = 1'000'000'000'000;
  EXPECT_TRUE(admit_rate(key, 1, 100, t0));
  auto refused = admit_rate(key, 1, 100, t0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  auto never = admit_rate(key, 1, 151, t0 + 10'000'000'000);
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(AdmitRate, ABatchTakesAllItsRecordsOrNone) {
  const auto key = limited_key(/*per_sec=*/1, /*burst=*/10);
  const std::int64_t t0 = 1'000'000'000'000;
  EXPECT_TRUE(admit_rate(key, 6, 60, t0));
  auto refused = admit_rate(key, 5, 50, t0);  // only 4 left: nothing is taken
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kRateLimited);
  EXPECT_TRUE(admit_rate(key, 4, 40, t0));
  auto never = admit_rate(key, 11, 110, t0 + 100'000'000'000);  // larger than the burst itself
  ASSERT_FALSE(never);
  EXPECT_EQ(never.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(never.error().message.find("rate.burst"), std::string::npos);
}

TEST(AdmitRate, KeysWithoutARateAlwaysPass) {
  config::ApiKey key;
  key.id = "free";
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(admit_rate(key, 1, 1'000'000, 0));
}

TEST(AuthorizeTopic, DeniesByDefaultAndNamesTheTopic) {
  config::ApiKey key;
  key.id = "k";
  key.topic_patterns = {"events.*", "logs.app-?"};
  EXPECT_TRUE(authorize_topic(key, "events.click"));
  EXPECT_TRUE(authorize_topic(key, "logs.app-7"));
  auto denied = authorize_topic(key, "billing");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kTopicNotAllowed);
  EXPECT_NE(denied.error().message.find("'billing'"), std::string::npos);
  key.topic_patterns.clear();
  EXPECT_FALSE(authorize_topic(key, "events.click"));
}

TEST(TopicName, FollowsKafkaRules) {
  EXPECT_TRUE(topic_name_problem("events.click_v2-x").empty());
  EXPECT_FALSE(topic_name_problem("").empty());
  EXPECT_FALSE(topic_name_problem(".").empty());
  EXPECT_FALSE(topic_name_problem("..").empty());
  EXPECT_FALSE(topic_name_problem("a/b").empty());
  EXPECT_FALSE(topic_name_problem("a%20b").empty());
  EXPECT_FALSE(topic_name_problem(std::string(250, 'x')).empty());
  EXPECT_TRUE(topic_name_problem(std::string(249, 'x')).empty());
}

}  // namespace
}  // namespace intake::policy
