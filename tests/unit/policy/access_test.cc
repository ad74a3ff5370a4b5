#include "policy/access.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "error/error.h"

namespace intake::policy {
namespace {

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

TEST(Authenticate, ACertificateAKeyListsAuthenticatesWithTheKeysChecks) {
  auto config = config_with("machine", "s3cret", {"events.*"}, true);
  const crypto::Sha256 digest = config.keys.begin()->first;
  config.keys_by_cert.emplace("san:spiffe://example.org/machine", digest);
  auto key = authenticate_certificate(config, std::string(64, 'a'), {"spiffe://example.org/machine"}, kNow);
  ASSERT_TRUE(key);
  EXPECT_EQ(key.value()->id, "machine");
  auto unknown = authenticate_certificate(config, std::string(64, 'a'), {"spiffe://example.org/other"}, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kMissingApiKey);
  config.keys.begin()->second.enabled = false;
  EXPECT_EQ(authenticate_certificate(config, std::string(64, 'a'), {"spiffe://example.org/machine"}, kNow).error().code,
            ErrorCode::kKeyDisabled);
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

}  // namespace
}  // namespace intake::policy
