#include "error/error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
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
  EXPECT_EQ(response.body, R"({"error":{"code":"topic_not_allowed","message":"topic \"a\\b\"\n"}})");
}

TEST(ErrorResponse, TellsClientsWhenToRetry) {
  EXPECT_EQ(http::error_response({ErrorCode::kBackpressure, "x"}).retry_after_s, 1u);
  EXPECT_GT(http::error_response({ErrorCode::kKafkaUnavailable, "x"}).retry_after_s, 0u);
  EXPECT_GT(http::error_response({ErrorCode::kSpoolFull, "the disk is full"}).retry_after_s, 0u);
  EXPECT_EQ(http::error_response({ErrorCode::kInvalidApiKey, "x"}).retry_after_s, 0u);
}

// The README's error table is the public list of codes: every code the gateway has is in it,
// with the status it really sends, and it names no code the gateway does not have.
TEST(ErrorTable, MatchesTheReadmesTableBothWays) {
  std::ifstream readme(std::string(INTAKE_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.good());
  std::map<std::string, std::string> documented;  // code -> the status column as written
  std::string line;
  bool in_table = false;
  while (std::getline(readme, line)) {
    if (line.rfind("| status | code |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    const auto second_bar = line.find('|', 1);
    const auto third_bar = line.find('|', second_bar + 1);
    const std::string status = line.substr(1, second_bar - 1);
    const std::string codes = line.substr(second_bar + 1, third_bar - second_bar - 1);
    for (auto open = codes.find('`'); open != std::string::npos; open = codes.find('`', open + 1)) {
      const auto close = codes.find('`', open + 1);
      documented[codes.substr(open + 1, close - open - 1)] = status;
      open = close;
    }
  }
  ASSERT_FALSE(documented.empty()) << "no error table found in README.md";
  std::set<std::string> known;
  for (int i = 0; i < static_cast<int>(ErrorCode::kCount_); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    const std::string name(error_name(code));
    known.insert(name);
    const auto row = documented.find(name);
    if (row == documented.end()) {
      ADD_FAILURE() << "README.md's error table lacks '" << name << "'";
      continue;
    }
    // A row may list two statuses ("502 / 504") or none ("—", never sent to a client).
    if (code != ErrorCode::kInvalidConfig) {
      EXPECT_NE(row->second.find(std::to_string(error_http_status(code))), std::string::npos)
          << name << ": README says '" << row->second << "', the gateway sends " << error_http_status(code);
    }
  }
  for (const auto& [name, status] : documented) {
    EXPECT_TRUE(known.count(name)) << "README.md documents '" << name << "', which the gateway does not have";
  }
}

}  // namespace
}  // namespace intake
