#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "names/key_id.h"
#include "names/topic_glob.h"
#include "names/topic_name.h"

namespace intake::names {
namespace {

TEST(TopicName, FollowsKafkaRules) {
  EXPECT_TRUE(check_topic_name("events.click_v2-x"));
  EXPECT_TRUE(check_topic_name(std::string(249, 'x')));
  for (const std::string& bad : std::vector<std::string>{"", ".", "..", "a/b", "a%20b", "a b", std::string(250, 'x')}) {
    const auto checked = check_topic_name(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalidTopic) << bad;
  }
  EXPECT_EQ(check_topic_name("a/b").error().message, "topic name may contain only a-z A-Z 0-9 . _ -");
  EXPECT_EQ(check_topic_name("..").error().message, "topic name cannot be '.' or '..'");
}

TEST(TopicGlob, AcceptsWildcardsAndRejectsEmptyAndIllegalCharacters) {
  EXPECT_TRUE(check_topic_glob("events.*"));
  EXPECT_TRUE(check_topic_glob("logs.app-?"));
  EXPECT_TRUE(check_topic_glob("*"));
  for (const std::string& bad : std::vector<std::string>{"", "events/*", "ev ents", std::string(250, 'a')}) {
    const auto checked = check_topic_glob(bad);
    ASSERT_FALSE(checked) << bad;
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalidConfig) << bad;
  }
  EXPECT_EQ(check_topic_glob("").error().message, "pattern is empty");
}

TEST(KeyId, AllowsTopicNameCharactersUpTo128) {
  EXPECT_TRUE(check_key_id("team-a.ios_v2"));
  EXPECT_TRUE(check_key_id(std::string(128, 'k')));
  EXPECT_EQ(check_key_id("").error().message, "key id must be 1 to 128 characters");
  EXPECT_EQ(check_key_id(std::string(129, 'k')).error().message, "key id must be 1 to 128 characters");
  EXPECT_EQ(check_key_id("team/a").error().message, "key id may contain only a-z A-Z 0-9 . _ -");
  EXPECT_EQ(check_key_id("team/a").error().code, ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace intake::names
