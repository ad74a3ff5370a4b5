#include "error/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "http/message.h"

namespace intake {
namespace {

TEST(ErrorTable, EveryCodeHasAUniqueSnakeCaseNameAndAnErrorStatus) {
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(ErrorCode::kCount_); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    const std::string name(error_name(code));
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    EXPECT_FALSE(name.empty());
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    EXPECT_GE(error_http_status(code), 400) << name;
    EXPECT_LT(error_http_status(code), 600) << name;
  }
}

TEST(ErrorTable, MapsTheDocumentedStatuses) {
  EXPECT_EQ(error_http_status(ErrorCode::kBadRequest), 400);
  EXPECT_EQ(error_http_status(ErrorCode::kInvalidApiKey), 401);
  EXPECT_EQ(error_http_status(ErrorCode::kTopicNotAllowed), 403);
  EXPECT_EQ(error_http_status(ErrorCode::kNotFound), 404);
  EXPECT_EQ(error_http_status(ErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(error_http_status(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(error_http_status(ErrorCode::kBackpressure), 429);
  EXPECT_EQ(error_http_status(ErrorCode::kKafkaUnavailable), 503);
  EXPECT_EQ(error_name(ErrorCode::kKafkaUnavailable), "kafka_unavailable");
}

TEST(ErrorResponse, IsJsonWithCodeAndEscapedMessage) {
  const auto response = http::error_response({ErrorCode::kTopicNotAllowed, "topic \"a\\b\"\n"});
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            R"({"error":{"code":"topic_not_allowed","message":"topic \"a\\b\"\n"}})");
}

TEST(ErrorResponse, TellsClientsWhenToRetry) {
  EXPECT_EQ(http::error_response({ErrorCode::kBackpressure, "x"}).retry_after_s, 1u);
  EXPECT_GT(http::error_response({ErrorCode::kKafkaUnavailable, "x"}).retry_after_s, 0u);
  EXPECT_EQ(http::error_response({ErrorCode::kInvalidApiKey, "x"}).retry_after_s, 0u);
}

}  // namespace
}  // namespace intake
