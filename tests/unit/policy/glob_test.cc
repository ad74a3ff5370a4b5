#include "policy/glob.h"

#include <gtest/gtest.h>

namespace intake::policy {
namespace {

TEST(GlobMatch, StarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(glob_match("events.*", "events.click"));
  EXPECT_TRUE(glob_match("events.*", "events."));
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("events.*", "event.click"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
}

TEST(GlobMatch, QuestionMarkMatchesExactlyOneCharacter) {
  EXPECT_TRUE(glob_match("logs.app-?", "logs.app-1"));
  EXPECT_FALSE(glob_match("logs.app-?", "logs.app-12"));
  EXPECT_FALSE(glob_match("logs.app-?", "logs.app-"));
}

TEST(GlobMatch, LiteralPatternMatchesOnlyItself) {
  EXPECT_TRUE(glob_match("demo", "demo"));
  EXPECT_FALSE(glob_match("demo", "demo2"));
  EXPECT_FALSE(glob_match("demo", "dem"));
}

TEST(GlobMatch, BacktracksAcrossRepeatedPrefixes) {
  EXPECT_TRUE(glob_match("*ab", "aaab"));
  EXPECT_TRUE(glob_match("*a*a*a*b", "aaaaaaaaab"));
  EXPECT_FALSE(glob_match("*a*a*a*b", "aaaaaaaaaa"));
}

}  // namespace
}  // namespace intake::policy
