// The access log writes one line per sampled answered request, with the fields an operator
// reads it for, and samples at the YAML's rate: none at 0, every request at 1, about a quarter
// at 0.25, and every 5xx whenever the log is on.
#include "ops/access_log.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "log_capture.h"

namespace intake::ops {
namespace {

using namespace std::chrono_literals;
using testing::LogCapture;

http::ClientAddress v4_mapped(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  http::ClientAddress address{};
  address[10] = 0xff;
  address[11] = 0xff;
  address[12] = a;
  address[13] = b;
  address[14] = c;
  address[15] = d;
  return address;
}

const http::ClientAddress kClient = v4_mapped(192, 0, 2, 7);

http::AnsweredRequest answered(int status, unsigned worker = 0) {
  return http::AnsweredRequest{.method = http::Method::kPost,
                               .route = "/v1/topics/{topic}",
                               .path = "/v1/topics/events.clicks",
                               .status = status,
                               .duration = 1500us,
                               .body_bytes = 321,
                               .client = &kClient,
                               .worker = worker};
}

TEST(AccessLog, WritesMethodRoutePathStatusDurationBytesAndClient) {
  LogCapture capture(logging::LogFormat::kJson);
  AccessLog log(1.0, 2);
  log.on_answered(answered(202, 1));
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();
  simdjson::dom::parser parser;
  simdjson::dom::object line;
  ASSERT_EQ(parser.parse(lines[0]).get(line), simdjson::SUCCESS) << lines[0];
  EXPECT_EQ(std::string_view(line["event"].get_string()), "access");
  EXPECT_EQ(std::string_view(line["component"].get_string()), "access");
  EXPECT_EQ(std::string_view(line["level"].get_string()), "info");
  EXPECT_EQ(std::string_view(line["method"].get_string()), "POST");
  EXPECT_EQ(std::string_view(line["route"].get_string()), "/v1/topics/{topic}");
  EXPECT_EQ(std::string_view(line["path"].get_string()), "/v1/topics/events.clicks");
  EXPECT_EQ(std::int64_t(line["status"].get_int64()), 202);
  EXPECT_DOUBLE_EQ(double(line["duration_ms"].get_double()), 1.5);
  EXPECT_EQ(std::uint64_t(line["body_bytes"].get_uint64()), 321u);
  EXPECT_EQ(std::string_view(line["client"].get_string()), "192.0.2.7");
  EXPECT_EQ(std::string_view(line["msg"].get_string()), "POST /v1/topics/events.clicks 202");
}

TEST(AccessLog, APathWithHostileBytesStaysOneValidJsonLine) {
  LogCapture capture(logging::LogFormat::kJson);
  AccessLog log(1.0, 1);
  auto request = answered(404);
  const std::string path = "/v1/\"quoted\"\\\n\xff\x01";
  request.path = path;
  request.route = {};
  http::ClientAddress v6{};
  v6[0] = 0x20;
  v6[1] = 0x01;
  v6[2] = 0x0d;
  v6[3] = 0xb8;
  v6[15] = 1;
  request.client = &v6;
  log.on_answered(request);
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();
  simdjson::dom::parser parser;
  simdjson::dom::object line;
  ASSERT_EQ(parser.parse(lines[0]).get(line), simdjson::SUCCESS) << lines[0];
  EXPECT_EQ(std::string_view(line["path"].get_string()), "/v1/\"quoted\"\\\n\xef\xbf\xbd\x01");
  EXPECT_EQ(std::string_view(line["route"].get_string()), "");
  EXPECT_EQ(std::string_view(line["client"].get_string()), "2001:db8::1");
}

TEST(AccessLog, RateZeroWritesNothingNotEvenA5xx) {
  LogCapture capture(logging::LogFormat::kJson);
  AccessLog log(0.0, 2);
  for (int i = 0; i < 100; ++i) log.on_answered(answered(i % 2 ? 202 : 503, i % 2));
  EXPECT_TRUE(capture.lines().empty()) << capture.text();
}

TEST(AccessLog, RateOneWritesEveryRequest) {
  LogCapture capture(logging::LogFormat::kJson);
  AccessLog log(1.0, 2);
  for (int i = 0; i < 500; ++i) log.on_answered(answered(i % 7 ? 202 : 400, i % 2));
  EXPECT_EQ(capture.lines().size(), 500u);
}

TEST(AccessLog, AQuarterRateWritesAboutAQuarterOnEachWorker) {
  AccessLog log(0.25, 3);
  for (unsigned worker = 0; worker < 3; ++worker) {
    int sampled = 0;
    constexpr int kRequests = 20'000;
    for (int i = 0; i < kRequests; ++i) sampled += log.sampled(worker, 200) ? 1 : 0;
    // Mean 5000, standard deviation ~61: the bound is over 8 deviations wide.
    EXPECT_GT(sampled, 4'500) << "worker " << worker;
    EXPECT_LT(sampled, 5'500) << "worker " << worker;
  }
  LogCapture capture(logging::LogFormat::kJson);
  for (int i = 0; i < 4'000; ++i) log.on_answered(answered(202, i % 3));
  const auto written = capture.lines().size();
  EXPECT_GT(written, 800u);
  EXPECT_LT(written, 1'200u);
}

TEST(AccessLog, Every5xxIsWrittenAtAnyRateAboveZero) {
  LogCapture capture(logging::LogFormat::kJson);
  AccessLog log(0.001, 2);
  for (int i = 0; i < 300; ++i) log.on_answered(answered(500 + i % 8, i % 2));
  EXPECT_EQ(capture.lines().size(), 300u);
}

TEST(AccessLog, LinesWaitForTheInfoLevel) {
  LogCapture capture(logging::LogFormat::kJson, spdlog::level::warn);
  AccessLog log(1.0, 1);
  log.on_answered(answered(202));
  log.on_answered(answered(503));
  EXPECT_TRUE(capture.lines().empty()) << capture.text();
}

TEST(AccessLog, LogfmtLineCarriesTheSameFields) {
  LogCapture capture(logging::LogFormat::kLogfmt);
  AccessLog log(1.0, 1);
  log.on_answered(answered(202));
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  for (const char* pair : {" component=access", " msg=\"POST /v1/topics/events.clicks 202\"", " event=access",
                           " method=POST", " path=/v1/topics/events.clicks", " route=/v1/topics/{topic}", " status=202",
                           " duration_ms=1.5", " body_bytes=321", " client=192.0.2.7"}) {
    EXPECT_NE(lines[0].find(pair), std::string::npos) << pair << " in " << lines[0];
  }
}

}  // namespace
}  // namespace intake::ops
