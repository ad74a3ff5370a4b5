#include "policy/access.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"
#include "policy/topic_name.h"

namespace intake::policy {
namespace {

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
  auto key = authenticate(config, "s3cret");
  ASSERT_TRUE(key);
  EXPECT_EQ(key.value()->id, "team-a");
  EXPECT_EQ(authenticate(config, "s3cret ").error().code, ErrorCode::kInvalidApiKey);
  EXPECT_EQ(authenticate(config, "").error().code, ErrorCode::kInvalidApiKey);
}

TEST(Authenticate, DisabledKeyIsForbiddenAndNamed) {
  const auto config = config_with("team-b", "s3cret", {"events.*"}, false);
  auto key = authenticate(config, "s3cret");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::kKeyDisabled);
  EXPECT_NE(key.error().message.find("team-b"), std::string::npos);
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
