// Structured logs from the real gateway, with the real Kafka and Consul: in json format every
// line it writes parses, each request answered gives one access line with its fields, the
// level changes at run time through PUT /admin/log-level, one registry change gives exactly
// one config_change line with its counts and no secret; in logfmt every line is key=value
// pairs. Records are read back from Kafka: delivery works with the logs on.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consul_client.h"
#include "crypto/digest.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A logfmt line as key → value (quoted values are JSON strings); nothing when it is not one.
std::optional<std::map<std::string, std::string>> parse_logfmt(const std::string& line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  simdjson::dom::parser parser;
  while (i < line.size()) {
    const auto equals = line.find('=', i);
    if (equals == std::string::npos || equals == i) return std::nullopt;
    const std::string key = line.substr(i, equals - i);
    if (key.find_first_of(" \"") != std::string::npos) return std::nullopt;
    i = equals + 1;
    if (i < line.size() && line[i] == '"') {
      std::size_t end = i + 1;
      while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
      if (end >= line.size()) return std::nullopt;
      std::string_view value;
      if (parser.parse(line.substr(i, end + 1 - i)).get_string().get(value) != simdjson::SUCCESS) return std::nullopt;
      out[key] = std::string(value);
      i = end + 1;
    } else {
      const auto space = line.find(' ', i);
      out[key] = line.substr(i, space == std::string::npos ? std::string::npos : space - i);
      i = space == std::string::npos ? line.size() : space;
    }
    if (i < line.size()) {
      if (line[i] != ' ') return std::nullopt;
      ++i;
    }
  }
  return out;
}

class StructuredLogs : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    topic = testing::unique_name("it.logs");
  }
  void TearDown() override {
    if (consul) {
      try {
        consul->remove_prefix(prefix);
      } catch (const std::exception&) {
      }
    }
  }

  // The gateway with the YAML's key (file source), or watching a fresh Consul prefix.
  void start(const std::string& logging_yaml, bool with_consul = false) {
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    if (with_consul) {
      consul = std::make_unique<testing::ConsulClient>(testing::required_env("INTAKE_CONSUL_ADDR"));
      prefix = testing::unique_name("it-logs") + "/";
      consul->put(prefix + "keys/first", testing::key_json("first-secret", {topic}));
      yaml.consul_address = consul->address();
      yaml.consul_prefix = prefix;
    } else {
      yaml.keys = {testing::YamlKey("logs-key", "first-secret", {topic})};
    }
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render() + logging_yaml, yaml.port);
  }

  testing::HttpReply post(const std::string& secret, const std::string& body) {
    return testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + topic, body,
                                 {{"Authorization", "Bearer " + secret}});
  }

  testing::HttpReply admin(std::string_view method, std::string_view body = {},
                           const std::string& token = testing::kAdminToken) {
    return testing::http_request("127.0.0.1", gateway->port(), method, "/admin/log-level", body,
                                 {{"Authorization", "Bearer " + token}});
  }

  std::vector<std::string> lines() const { return split_lines(gateway->log_tail(64u << 20)); }

  // Every line of the log, parsed; fails the test on the first that is not a JSON object.
  std::vector<simdjson::dom::document> json_lines() const {
    std::vector<simdjson::dom::document> out;
    for (const auto& line : lines()) {
      simdjson::dom::parser parser;
      simdjson::dom::element element;
      if (parser.parse(line).get(element) != simdjson::SUCCESS || !element.is_object()) {
        ADD_FAILURE() << "not a JSON object: " << line;
        continue;
      }
      out.push_back(std::move(parser.doc));
    }
    return out;
  }

  static std::string text(simdjson::dom::element line, std::string_view key) {
    std::string_view value;
    return line[key].get_string().get(value) == simdjson::SUCCESS ? std::string(value) : std::string();
  }

  // The parsed lines whose "event" is `event`.
  std::vector<simdjson::dom::element> events(const std::vector<simdjson::dom::document>& parsed,
                                             std::string_view event) const {
    std::vector<simdjson::dom::element> out;
    for (const auto& document : parsed) {
      if (text(document.root(), "event") == event) out.push_back(document.root());
    }
    return out;
  }

  std::size_t count_lines_with(const std::string& needle) const {
    std::size_t count = 0;
    for (const auto& line : lines()) count += line.find(needle) != std::string::npos ? 1 : 0;
    return count;
  }

  std::string bootstrap;
  std::string topic;
  std::string prefix;
  std::unique_ptr<testing::ConsulClient> consul;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(StructuredLogs, JsonFormatWritesOneAccessLinePerRequestAndEveryLineParses) {
  start("logging: {format: json, access_log: {sample_rate: 1}}\n");
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_EQ(post("first-secret", "record-" + std::to_string(i)).status, 202);
  }
  ASSERT_EQ(post("wrong-secret", "refused").status, 401);
  const auto records = testing::consume_topic(
      bootstrap, topic, [&](const auto& got) { return got.size() >= kRequests; }, 60s);
  EXPECT_EQ(records.size(), static_cast<std::size_t>(kRequests));

  const std::string path = "/v1/topics/" + topic;
  ASSERT_TRUE(eventually([&] { return count_lines_with("\"path\":\"" + path + "\"") == kRequests + 1; }))
      << gateway->log_tail();
  const auto parsed = json_lines();
  ASSERT_FALSE(parsed.empty());
  for (const auto& document : parsed) {
    EXPECT_FALSE(text(document.root(), "ts").empty());
    EXPECT_FALSE(text(document.root(), "level").empty());
    EXPECT_TRUE(document.root()["msg"].is_string());
  }
  int accepted = 0;
  int refused = 0;
  for (const auto& line : events(parsed, "access")) {
    if (text(line, "path") != path) continue;  // the start-up's /healthz polls are there too
    EXPECT_EQ(text(line, "method"), "POST");
    EXPECT_EQ(text(line, "route"), "/v1/topics/{topic}");
    EXPECT_EQ(text(line, "client"), "127.0.0.1");
    EXPECT_EQ(text(line, "component"), "access");
    EXPECT_GE(double(line["duration_ms"].get_double()), 0.0);
    const auto status = std::int64_t(line["status"].get_int64());
    const auto bytes = std::uint64_t(line["body_bytes"].get_uint64());
    if (status == 202) {
      ++accepted;
      EXPECT_GE(bytes, std::string("record-0").size());
    } else {
      EXPECT_EQ(status, 401);
      EXPECT_EQ(bytes, std::string("refused").size());
      ++refused;
    }
  }
  EXPECT_EQ(accepted, kRequests);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(gateway->stop(SIGTERM), 0);
  for (const auto& line : lines()) {  // the drain's lines too
    simdjson::dom::parser parser;
    EXPECT_EQ(parser.parse(line).error(), simdjson::SUCCESS) << line;
  }
}

TEST_F(StructuredLogs, TheLevelChangesAtRunTimeThroughTheAdminApi) {
  start("logging: {format: json, level: info}\n", true);
  ASSERT_TRUE(eventually([&] { return post("first-secret", "r").status == 202; }));
  EXPECT_EQ(admin("GET").body, R"({"level":"info"})");
  const auto refused = admin("PUT", R"({"level":"debug"})", "wrong-token");
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find(R"("code":"invalid_admin_token")"), std::string::npos) << refused.body;
  const auto bad = admin("PUT", R"({"level":"loud"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find(R"("code":"bad_request")"), std::string::npos) << bad.body;

  // Every published config without brokers writes a debug line (kafka: keeping the YAML's).
  const std::string debug_line = R"("level":"debug","component":"kafka","msg":"the registry lists no broker)";
  EXPECT_EQ(count_lines_with(debug_line), 0u);
  ASSERT_EQ(admin("PUT", R"({"level":"debug"})").body, R"({"level":"debug"})");
  EXPECT_EQ(admin("GET").body, R"({"level":"debug"})");
  EXPECT_EQ(count_lines_with("log level info → debug (PUT /admin/log-level)"), 1u);
  consul->put(prefix + "keys/second", testing::key_json("second-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("second-secret", "r").status == 202; }));
  ASSERT_TRUE(eventually([&] { return count_lines_with(debug_line) == 1; })) << gateway->log_tail();

  ASSERT_EQ(admin("PUT", R"({"level":"info"})").body, R"({"level":"info"})");
  consul->put(prefix + "keys/third", testing::key_json("third-secret", {topic}));
  ASSERT_TRUE(eventually([&] { return post("third-secret", "r").status == 202; }));
  ASSERT_TRUE(eventually([&] { return count_lines_with(R"("keys_added":"third")") == 1; })) << gateway->log_tail();
  EXPECT_EQ(count_lines_with(debug_line), 1u) << gateway->log_tail();
  json_lines();  // fails on any line that does not parse

  const auto delivered = testing::consume_topic(
      bootstrap, topic, [](const auto& got) { return got.size() >= 3; }, 60s);
  EXPECT_GE(delivered.size(), 3u);
}

TEST_F(StructuredLogs, OneRegistryChangeWritesOneConfigChangeLineWithoutSecrets) {
  start("logging: {format: json}\n", true);
  ASSERT_TRUE(eventually([&] { return post("first-secret", "before").status == 202; }));
  const auto before = events(json_lines(), "config_change").size();
  ASSERT_GE(before, 1u);  // the first registry answer

  const std::string signing_secret = "it-signing-secret-0123456789";
  const std::string second =
      testing::key_json("second-secret", {topic}, R"(,"signing_secret":")" + signing_secret + "\"");
  consul->put(prefix + "keys/second", second);
  ASSERT_TRUE(eventually([&] { return events(json_lines(), "config_change").size() == before + 1; }))
      << gateway->log_tail();
  // The gateway keeps serving, and another watch round of the same tree writes no line.
  ASSERT_EQ(post("first-secret", "after").status, 202);
  const auto records = testing::consume_topic(
      bootstrap, topic, [](const auto& got) { return got.size() >= 2; }, 60s);
  EXPECT_EQ(records.size(), 2u);
  const auto parsed = json_lines();
  const auto changes = events(parsed, "config_change");
  ASSERT_EQ(changes.size(), before + 1) << gateway->log_tail();
  const auto line = changes.back();
  EXPECT_EQ(text(line, "keys_added"), "second");
  EXPECT_EQ(text(line, "keys_removed"), "");
  EXPECT_EQ(text(line, "keys_changed"), "");
  EXPECT_EQ(std::uint64_t(line["keys"].get_uint64()), 2u);
  EXPECT_EQ(std::uint64_t(line["version"].get_uint64()), std::uint64_t(line["previous_version"].get_uint64()) + 1);
  EXPECT_FALSE(bool(line["brokers_changed"].get_bool()));
  EXPECT_FALSE(bool(line["settings_changed"].get_bool()));
  EXPECT_EQ(text(line, "source"), "consul:" + prefix);
  EXPECT_NE(text(line, "msg").find("keys +1 -0 ~0, topics +0 -0 ~0, brokers unchanged, settings unchanged"),
            std::string::npos)
      << text(line, "msg");

  const std::string log = gateway->log_tail(64u << 20);
  for (const std::string& secret : {std::string("first-secret"), std::string("second-secret"), signing_secret}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
    EXPECT_EQ(log.find(crypto::to_hex(crypto::sha256(secret))), std::string::npos) << "the digest of " << secret;
  }
}

TEST_F(StructuredLogs, LogfmtLinesAreKeyValuePairs) {
  start("logging: {format: logfmt, access_log: {sample_rate: 1.0}}\n");
  constexpr int kRequests = 5;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(post("first-secret", "logfmt-" + std::to_string(i)).status, 202);
  const auto records = testing::consume_topic(
      bootstrap, topic, [&](const auto& got) { return got.size() >= kRequests; }, 60s);
  EXPECT_EQ(records.size(), static_cast<std::size_t>(kRequests));
  const std::string path = "/v1/topics/" + topic;
  ASSERT_TRUE(eventually([&] { return count_lines_with(" path=" + path + " ") == kRequests; })) << gateway->log_tail();
  int access = 0;
  const auto all = lines();
  ASSERT_FALSE(all.empty());
  for (const auto& line : all) {
    const auto pairs = parse_logfmt(line);
    ASSERT_TRUE(pairs) << "not logfmt: " << line;
    EXPECT_TRUE(pairs->contains("ts") && pairs->contains("level") && pairs->contains("msg")) << line;
    if (pairs->contains("event") && pairs->at("event") == "access" && pairs->at("path") == path) {
      ++access;
      EXPECT_EQ(pairs->at("method"), "POST");
      EXPECT_EQ(pairs->at("route"), "/v1/topics/{topic}");
      EXPECT_EQ(pairs->at("status"), "202");
      EXPECT_EQ(pairs->at("client"), "127.0.0.1");
      EXPECT_TRUE(pairs->contains("duration_ms") && pairs->contains("body_bytes")) << line;
      EXPECT_EQ(pairs->at("msg"), "POST " + path + " 202");
    }
  }
  EXPECT_EQ(access, kRequests);
}

}  // namespace
}  // namespace intake
