// Every line the structured formats write can be read back: JSON lines parse with escapes
// (quotes, backslashes, control characters, bytes that are not UTF-8) undone, logfmt lines
// split into the same key=value pairs, and the level decides what is written.
#include "logging/structured.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <thread>

#include "log_capture.h"

namespace intake::logging {
namespace {

using testing::LogCapture;

// One JSON line as an object; fails the test when it does not parse.
simdjson::dom::object parse_json(simdjson::dom::parser& parser, const std::string& line) {
  simdjson::dom::object object;
  const auto error = parser.parse(line).get(object);
  EXPECT_EQ(error, simdjson::SUCCESS) << "not a JSON object: " << line;
  return object;
}

std::string string_field(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return "<missing " + std::string(key) + ">";
  return std::string(value);
}

// A logfmt line as key → value: bare values end at a space, quoted ones are JSON strings.
std::map<std::string, std::string> parse_logfmt(const std::string& line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    const auto equals = line.find('=', i);
    if (equals == std::string::npos) {
      ADD_FAILURE() << "no '=' after offset " << i << " in: " << line;
      break;
    }
    const std::string key = line.substr(i, equals - i);
    EXPECT_EQ(key.find_first_of(" \""), std::string::npos) << "bad key '" << key << "' in: " << line;
    i = equals + 1;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      std::size_t end = i + 1;
      while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
      EXPECT_LT(end, line.size()) << "unterminated quote in: " << line;
      simdjson::dom::parser parser;
      std::string_view unquoted;
      const std::string quoted = line.substr(i, end + 1 - i);
      EXPECT_EQ(parser.parse(quoted).get_string().get(unquoted), simdjson::SUCCESS) << quoted;
      value = std::string(unquoted);
      i = end + 1;
    } else {
      const auto space = line.find(' ', i);
      value = line.substr(i, space == std::string::npos ? std::string::npos : space - i);
      i = space == std::string::npos ? line.size() : space;
    }
    EXPECT_TRUE(i == line.size() || line[i] == ' ') << "no space after the value of " << key << " in: " << line;
    out[key] = value;
    if (i < line.size()) ++i;
  }
  return out;
}

TEST(StructuredLogs, JsonLineParsesBackWithQuotesBackslashesAndControlCharacters) {
  LogCapture capture(LogFormat::kJson);
  const std::string hostile = std::string("say \"hi\" \\ C:\\path\nnext line\r\t\x01\x1f\x7f end") + '\0' + "after nul";
  spdlog::info("{}", hostile);
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();  // the newline in the message did not split it
  simdjson::dom::parser parser;
  const auto object = parse_json(parser, lines[0]);
  EXPECT_EQ(string_field(object, "msg"), hostile);
  EXPECT_EQ(string_field(object, "level"), "info");
  EXPECT_EQ(string_field(object, "ts").size(), std::string("2026-12-03T19:51:48.123Z").size()) << lines[0];
  EXPECT_EQ(string_field(object, "ts").back(), 'Z');
}

TEST(StructuredLogs, BytesThatAreNotUtf8BecomeReplacementCharactersAndValidUtf8Stays) {
  LogCapture capture(LogFormat::kJson);
  const std::string valid = "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80";  // é → 😀
  // A lone continuation byte, 0xFF, an overlong '/', a UTF-16 surrogate and a cut-off sequence.
  spdlog::info("{}", valid + "|\x80|\xff|\xc0\xaf|\xed\xa0\x80|\xe2\x82");
  simdjson::dom::parser parser;
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(string_field(parse_json(parser, lines[0]), "msg"),
            valid + "|" + replacement + "|" + replacement + "|" + replacement + replacement + "|" + replacement +
                replacement + replacement + "|" + replacement + replacement);
}

TEST(StructuredLogs, EventFieldsAreTopLevelKeysOfTheirType) {
  LogCapture capture(LogFormat::kJson);
  event(spdlog::level::warn, "config: applied version 3",
        {{"text", std::string_view("a \"quoted\"\nvalue")},
         {"signed", std::int64_t{-5}},
         {"count", std::uint64_t{18446744073709551615ULL}},
         {"ms", 1.5},
         {"flag", true},
         {"nan", std::numeric_limits<double>::quiet_NaN()}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  simdjson::dom::parser parser;
  const auto object = parse_json(parser, lines[0]);
  EXPECT_EQ(string_field(object, "level"), "warn");
  EXPECT_EQ(string_field(object, "component"), "config");
  EXPECT_EQ(string_field(object, "msg"), "applied version 3");
  EXPECT_EQ(string_field(object, "text"), "a \"quoted\"\nvalue");
  EXPECT_EQ(std::int64_t(object["signed"].get_int64()), -5);
  EXPECT_EQ(std::uint64_t(object["count"].get_uint64()), 18446744073709551615ULL);
  EXPECT_DOUBLE_EQ(double(object["ms"].get_double()), 1.5);
  EXPECT_TRUE(bool(object["flag"].get_bool()));
  EXPECT_TRUE(object["nan"].is_null()) << lines[0];
}

TEST(StructuredLogs, OnlyALowercasePrefixBecomesTheComponent) {
  LogCapture capture(LogFormat::kJson);
  spdlog::info("Not a component: text");
  spdlog::info("no colon here");
  spdlog::info("kafka: broker up");
  simdjson::dom::parser parser;
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 3u);
  auto first = parse_json(parser, lines[0]);
  EXPECT_EQ(string_field(first, "msg"), "Not a component: text");
  EXPECT_TRUE(first["component"].error() == simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(string_field(parse_json(parser, lines[1]), "msg"), "no colon here");
  auto third = parse_json(parser, lines[2]);
  EXPECT_EQ(string_field(third, "component"), "kafka");
  EXPECT_EQ(string_field(third, "msg"), "broker up");
}

TEST(StructuredLogs, LogfmtQuotesValuesThatNeedItAndParsesBack) {
  LogCapture capture(LogFormat::kLogfmt);
  event(spdlog::level::info, "access: POST /v1/topics/a 202",
        {{"plain", std::string_view("abc")},
         {"spaced", std::string_view("a b")},
         {"equals", std::string_view("k=v")},
         {"quoted", std::string_view("say \"x\"")},
         {"slash", std::string_view("C:\\dir")},
         {"newline", std::string_view("one\ntwo")},
         {"empty", std::string_view("")},
         {"bytes", std::uint64_t{42}},
         {"ok", false}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();
  const auto pairs = parse_logfmt(lines[0]);
  EXPECT_EQ(pairs.at("level"), "info");
  EXPECT_EQ(pairs.at("component"), "access");
  EXPECT_EQ(pairs.at("msg"), "POST /v1/topics/a 202");
  EXPECT_EQ(pairs.at("plain"), "abc");
  EXPECT_EQ(pairs.at("spaced"), "a b");
  EXPECT_EQ(pairs.at("equals"), "k=v");
  EXPECT_EQ(pairs.at("quoted"), "say \"x\"");
  EXPECT_EQ(pairs.at("slash"), "C:\\dir");
  EXPECT_EQ(pairs.at("newline"), "one\ntwo");
  EXPECT_EQ(pairs.at("empty"), "");
  EXPECT_EQ(pairs.at("bytes"), "42");
  EXPECT_EQ(pairs.at("ok"), "false");
  EXPECT_NE(lines[0].find(" plain=abc "), std::string::npos) << lines[0];  // bare when it can be
  EXPECT_NE(lines[0].find(" spaced=\"a b\" "), std::string::npos) << lines[0];
  EXPECT_EQ(pairs.at("ts").back(), 'Z');
}

TEST(StructuredLogs, LogfmtValueEscapes) {
  std::string out;
  append_logfmt_value(out, "bare");
  EXPECT_EQ(out, "bare");
  out.clear();
  append_logfmt_value(out, "");
  EXPECT_EQ(out, "\"\"");
  out.clear();
  append_logfmt_value(out, "a=b \"c\"");
  EXPECT_EQ(out, R"("a=b \"c\"")");
  out.clear();
  append_json_string(out, std::string("\x01\x7f", 2));
  EXPECT_EQ(out, R"("\u0001\u007f")");
}

TEST(StructuredLogs, TextFormatKeepsAMessageWithANewlineOnOneLine) {
  LogCapture capture(LogFormat::kText);
  event(spdlog::level::err, "http: bad request\nfake: line", {{"path", std::string_view("/a b")}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();
  EXPECT_NE(lines[0].find("[error] http: bad request\\nfake: line path=\"/a b\""), std::string::npos) << lines[0];
}

TEST(StructuredLogs, LinesBelowTheLevelAreNotWrittenAndTheLevelChangesAtRunTime) {
  LogCapture capture(LogFormat::kJson, spdlog::level::info);
  spdlog::debug("hidden");
  event(spdlog::level::debug, "hidden too", {{"n", std::int64_t{1}}});
  EXPECT_TRUE(capture.lines().empty()) << capture.text();
  spdlog::set_level(spdlog::level::debug);
  spdlog::debug("shown");
  spdlog::set_level(spdlog::level::warn);
  spdlog::info("hidden again");
  spdlog::warn("shown again");
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u) << capture.text();
  simdjson::dom::parser parser;
  EXPECT_EQ(string_field(parse_json(parser, lines[0]), "level"), "debug");
  EXPECT_EQ(string_field(parse_json(parser, lines[1]), "msg"), "shown again");
}

TEST(StructuredLogs, LinesFromOtherThreadsUseTheFormatAndKeepTheirOwnFields) {
  LogCapture capture(LogFormat::kJson);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      const std::string name = "thread-" + std::to_string(t);
      for (int i = 0; i < 50; ++i) {
        event(spdlog::level::info, "test: line", {{"who", std::string_view(name)}, {"i", std::int64_t{i}}});
        spdlog::info("test: plain from {}", name);  // no fields of another line leak into it
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 400u);
  simdjson::dom::parser parser;
  std::map<std::string, int> per_thread;
  for (const auto& line : lines) {
    const auto object = parse_json(parser, line);
    if (string_field(object, "msg") == "line") {
      ++per_thread[string_field(object, "who")];
    } else {
      EXPECT_TRUE(object["who"].error() == simdjson::NO_SUCH_FIELD) << line;
    }
  }
  for (int t = 0; t < 4; ++t) EXPECT_EQ(per_thread["thread-" + std::to_string(t)], 50);
}

TEST(StructuredLogs, LevelNamesParseAndRoundTrip) {
  for (const auto level : {spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                           spdlog::level::err, spdlog::level::critical, spdlog::level::off}) {
    EXPECT_EQ(parse_level(level_name(level)), level) << level_name(level);
  }
  EXPECT_EQ(level_name(spdlog::level::err), "error");
  EXPECT_EQ(parse_level("warning"), spdlog::level::warn);
  EXPECT_EQ(parse_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_level("verbose"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
}

}  // namespace
}  // namespace intake::logging
