// GET /admin/log-level says the level in force; PUT changes it at once for every logger, and
// says so in a line of its own. A bad body is a 400 that names the levels; a missing or wrong
// admin token is the 401 invalid_admin_token every admin route answers; no admin token in the
// YAML is a 404.
#include "ops/log_level_handler.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <optional>
#include <string>

#include "crypto/digest.h"
#include "log_capture.h"

namespace intake::ops {
namespace {

using testing::LogCapture;

class Headers final : public http::HeaderSource {
 public:
  explicit Headers(std::string authorization) : authorization_(std::move(authorization)) {}
  std::string_view find(std::string_view name) const override {
    return name == "Authorization" && !authorization_.empty() ? std::string_view(authorization_) : std::string_view();
  }
  void for_each(const std::function<void(std::string_view name, std::string_view value)>& visit) const override {
    if (!authorization_.empty()) visit("Authorization", authorization_);
  }

 private:
  std::string authorization_;
};

const Headers kGoodToken("Bearer admin-token");

http::Response call(LogLevelHandler& handler, http::Method method, std::string_view body = "",
                    const Headers& headers = kGoodToken) {
  http::Request request;
  request.method = method;
  request.path = "/admin/log-level";
  request.body = body;
  request.headers = &headers;
  return handler.handle(request, {});
}

std::string error_code(const http::Response& response) {
  simdjson::dom::parser parser;
  std::string_view code;
  if (parser.parse(response.body)["error"]["code"].get_string().get(code) != simdjson::SUCCESS) return "<none>";
  return std::string(code);
}

class LogLevelHandlerTest : public ::testing::Test {
 protected:
  LogLevelHandler handler{crypto::sha256("admin-token")};
  LogCapture capture{logging::LogFormat::kJson, spdlog::level::info};
};

TEST_F(LogLevelHandlerTest, GetSaysTheLevelInForce) {
  const auto answer = call(handler, http::Method::kGet);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"level":"info"})");
  EXPECT_TRUE(capture.lines().empty()) << capture.text();
}

TEST_F(LogLevelHandlerTest, PutChangesTheLevelAtOnceAndLogsTheChange) {
  const auto answer = call(handler, http::Method::kPut, R"({"level":"debug"})");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, R"({"level":"debug"})");
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  spdlog::debug("now shown");
  EXPECT_EQ(call(handler, http::Method::kGet).body, R"({"level":"debug"})");

  EXPECT_EQ(call(handler, http::Method::kPut, R"({"level":"error"})").body, R"({"level":"error"})");
  spdlog::warn("hidden");  // below error
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u) << capture.text();
  EXPECT_NE(lines[0].find(R"("level":"warn","component":"admin","msg":"log level info → debug)"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("msg":"now shown")"), std::string::npos) << lines[1];
  // Written at the new level, so that it shows.
  EXPECT_NE(lines[2].find(R"("level":"error","component":"admin","msg":"log level debug → error)"), std::string::npos)
      << lines[2];
}

TEST_F(LogLevelHandlerTest, AChangeToOffIsWrittenBeforeItApplies) {
  EXPECT_EQ(call(handler, http::Method::kPut, R"({"level":"off"})").body, R"({"level":"off"})");
  spdlog::critical("hidden");
  EXPECT_EQ(call(handler, http::Method::kPut, R"({"level":"info"})").status, 200);
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u) << capture.text();
  EXPECT_NE(lines[0].find(R"("level":"critical","component":"admin","msg":"log level info → off)"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(R"("level":"warn","component":"admin","msg":"log level off → info)"), std::string::npos)
      << lines[1];
}

TEST_F(LogLevelHandlerTest, BadLevelOrBodyIs400AndKeepsTheLevel) {
  for (const std::string body : {R"({"level":"verbose"})", R"({"level":"DEBUG"})", R"({"level":3})", R"({})",
                                 R"(["debug"])", "level=debug", ""}) {
    const auto answer = call(handler, http::Method::kPut, body);
    EXPECT_EQ(answer.status, 400) << body;
    EXPECT_EQ(error_code(answer), "bad_request") << body;
    EXPECT_NE(answer.body.find("trace, debug, info, warn, error, critical, off"), std::string::npos) << answer.body;
  }
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
  EXPECT_TRUE(capture.lines().empty()) << capture.text();
}

TEST_F(LogLevelHandlerTest, MissingOrWrongTokenIs401AndChangesNothing) {
  for (const auto* authorization : {"", "Bearer wrong-token", "Basic YWRtaW4tdG9rZW4=", "admin-token"}) {
    const Headers headers(authorization);
    for (const auto method : {http::Method::kGet, http::Method::kPut}) {
      const auto answer = call(handler, method, R"({"level":"trace"})", headers);
      EXPECT_EQ(answer.status, 401) << authorization;
      EXPECT_EQ(error_code(answer), "invalid_admin_token") << authorization;
      EXPECT_EQ(answer.body.find("level\":\"info"), std::string::npos) << answer.body;
    }
  }
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

TEST_F(LogLevelHandlerTest, WithoutAnAdminTokenTheRouteIsOff) {
  LogLevelHandler off(std::nullopt);
  for (const auto method : {http::Method::kGet, http::Method::kPut}) {
    const auto answer = call(off, method, R"({"level":"trace"})");
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(error_code(answer), "not_found");
  }
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
}

}  // namespace
}  // namespace intake::ops
