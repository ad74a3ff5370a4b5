// Secrets never leave the gateway: API keys as clients send them, a signing secret, the admin
// token, a Kafka SASL password and wrong credentials clients presented are looked for — as
// they are, in base64 and in hex, and as the digests the YAML holds — in every log line of the
// most verbose level, in /metrics, in every /admin/* answer and in every answer a client got,
// after traffic that fails in every way the access checks know.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crypto/digest.h"
#include "encoding/base64.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"
#include "policy/signature.h"

namespace intake {
namespace {

constexpr const char* kApiKey = "ApiKey-Qv7Lm2Zx9Wr4Tn";
constexpr const char* kSignerApiKey = "SignerKey-Pq7Tz3Hk8Ds1";
constexpr const char* kSigningSecret = "SigningSecret-Kd83hQpL0aYv";
constexpr const char* kAdminTokenValue = "AdminToken-Zr4vN8sTq1Mb";
constexpr const char* kSaslPassword = "SaslPassword-Ue5cR7wNj2Gf";
constexpr const char* kWrongApiKey = "WrongKey-Bx61LmVc0Ea";
constexpr const char* kWrongAdminToken = "WrongAdmin-Hy2PcX5oRu";
constexpr const char* kWrongSigningSecret = "WrongSigning-Fs9Jw3Nq6Ly";

std::string hex(std::string_view bytes, bool upper) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : bytes) {
    out += (upper ? kUpper : kLower)[c >> 4];
    out += (upper ? kUpper : kLower)[c & 15];
  }
  return out;
}

// One form of one secret the scanner looks for.
struct Needle {
  std::string name;
  std::string text;
};

// A secret as it is, in base64, in hex (both cases), and its SHA-256 as the YAML stores it.
void add_forms(std::vector<Needle>& needles, const std::string& name, const std::string& secret) {
  needles.push_back({name, secret});
  needles.push_back({name + " (base64)", encoding::base64_encode(secret)});
  needles.push_back({name + " (hex)", hex(secret, false)});
  needles.push_back({name + " (HEX)", hex(secret, true)});
  const std::string digest = crypto::to_hex(crypto::sha256(secret));
  needles.push_back({name + " (sha256)", digest});
  std::string upper = digest;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  needles.push_back({name + " (SHA256)", upper});
}

std::vector<Needle> all_needles() {
  std::vector<Needle> needles;
  add_forms(needles, "API key", kApiKey);
  add_forms(needles, "signing key's API key", kSignerApiKey);
  add_forms(needles, "signing secret", kSigningSecret);
  add_forms(needles, "admin token", kAdminTokenValue);
  add_forms(needles, "SASL password", kSaslPassword);
  add_forms(needles, "wrong API key presented", kWrongApiKey);
  add_forms(needles, "wrong admin token presented", kWrongAdminToken);
  add_forms(needles, "wrong signing secret", kWrongSigningSecret);
  // Basic credentials as Confluent clients send them: base64 of "id:key".
  needles.push_back({"Basic credentials", encoding::base64_encode(std::string("secrets:") + kApiKey)});
  needles.push_back({"wrong Basic credentials", encoding::base64_encode(std::string("secrets:") + kWrongApiKey)});
  return needles;
}

// Every needle found in `text`, with where and a little context.
std::vector<std::string> find_secrets(const std::string& where, const std::string& text,
                                      const std::vector<Needle>& needles) {
  std::vector<std::string> found;
  for (const auto& needle : needles) {
    const auto at = text.find(needle.text);
    if (at == std::string::npos) continue;
    const auto from = at < 80 ? 0 : at - 80;
    found.push_back(needle.name + " in " + where + ": ..." + text.substr(from, needle.text.size() + 160) + "...");
  }
  return found;
}

// Every answer a client got, as it came: status, headers and body.
std::string transcript(const testing::HttpReply& reply) {
  std::string text = std::to_string(reply.status) + "\n";
  for (const auto& [name, value] : reply.headers) text += name + ": " + value + "\n";
  return text + reply.body + "\n";
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Secrets : public ::testing::Test {
 protected:
  // A gateway with the suite's keys and admin token; `kafka_properties` go to librdkafka.
  std::unique_ptr<testing::GatewayProcess> start(
      const std::vector<std::pair<std::string, std::string>>& kafka_properties) {
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    yaml.shutdown_flush_ms = 2'000;
    yaml.keys.push_back({"secrets", kApiKey, {"secrets.*"}});
    yaml.keys.push_back(
        {"signer", kSignerApiKey, {"secrets.*"}, std::string("signing_secret: \"") + kSigningSecret + "\""});
    yaml.kafka_properties = kafka_properties;
    std::string text = yaml.render();
    // This suite's own admin token, so the scan looks for a distinctive one.
    const std::string shared_digest = crypto::to_hex(crypto::sha256(testing::kAdminToken));
    text.replace(text.find(shared_digest), shared_digest.size(), crypto::to_hex(crypto::sha256(kAdminTokenValue)));
    return std::make_unique<testing::GatewayProcess>(text, yaml.port, 0,
                                                     std::vector<std::string>{"--log-level", "trace"});
  }

  // Sends traffic that succeeds and fails in every way the access checks know; every answer
  // goes to `answers`. `kafka_up`: the statuses of produce requests are checked too.
  void exercise(std::uint16_t port, const std::string& topic, bool kafka_up, std::string& answers) {
    const auto send = [&](const std::string& method, const std::string& path, const std::string& body,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
      const auto reply = testing::http_request("127.0.0.1", port, method, path, body, headers);
      answers += transcript(reply);
      return reply;
    };
    const std::string path = "/v1/topics/" + topic;
    const auto bearer = [](const std::string& key) {
      return std::pair<std::string, std::string>{"Authorization", "Bearer " + key};
    };
    const auto basic = [](const std::string& id, const std::string& key) {
      return std::pair<std::string, std::string>{"Authorization", "Basic " + encoding::base64_encode(id + ":" + key)};
    };
    const auto expect = [&](const testing::HttpReply& reply, int status, const std::string& code) {
      EXPECT_EQ(reply.status, status) << reply.body;
      if (!code.empty()) {
        EXPECT_NE(reply.body.find("\"" + code + "\""), std::string::npos) << reply.body;
      }
    };

    // Accepted, in each way a key is sent.
    const int produced = kafka_up ? 202 : 0;
    auto reply = send("POST", path, "one", {bearer(kApiKey)});
    if (produced) expect(reply, produced, "");
    reply = send("POST", path, "two", {{"X-Intake-Key", kApiKey}});
    if (produced) expect(reply, produced, "");
    reply = send("POST", path, "three", {basic("secrets", kApiKey)});
    if (produced) expect(reply, produced, "");
    reply = send("POST", "/topics/" + topic, R"({"records":[{"value":"four"}]})",
                 {basic("secrets", kApiKey), {"Content-Type", "application/vnd.kafka.json.v2+json"}});
    if (kafka_up) expect(reply, 200, "");
    // Refused keys.
    expect(send("POST", path, "x", {bearer(kWrongApiKey)}), 401, "invalid_api_key");
    expect(send("POST", path, "x", {{"X-Intake-Key", kWrongApiKey}}), 401, "invalid_api_key");
    expect(send("POST", path, "x", {basic("secrets", kWrongApiKey)}), 401, "invalid_api_key");
    expect(send("POST", path, "x", {basic("someone-else", kApiKey)}), 401, "");
    expect(send("POST", path, "x", {}), 401, "missing_api_key");
    expect(send("POST", "/v1/topics/forbidden", "x", {bearer(kApiKey)}), 403, "topic_not_allowed");
    // Bad bodies, with a good key.
    expect(send("POST", path + "/records", "{not json", {bearer(kApiKey)}), 400, "");
    expect(send("POST", path, "", {bearer(kApiKey)}), 400, "empty_body");
    expect(send("POST", path, "x", {bearer(kApiKey), {"Content-Encoding", "gzip"}}), 400, "");
    // Signatures: none, wrong, expired, then a good one and its replay.
    const std::string body = "signed-body";
    expect(send("POST", path, body, {bearer(kSignerApiKey)}), 401, "signature_required");
    expect(send("POST", path, body,
                {bearer(kSignerApiKey),
                 {"X-Intake-Signature", policy::sign_request(kWrongSigningSecret, unix_now(), body)}}),
           401, "invalid_signature");
    expect(send("POST", path, body,
                {bearer(kSignerApiKey),
                 {"X-Intake-Signature", policy::sign_request(kSigningSecret, unix_now() - 3'600, body)}}),
           401, "signature_expired");
    const std::string signature = policy::sign_request(kSigningSecret, unix_now(), body);
    reply = send("POST", path, body, {bearer(kSignerApiKey), {"X-Intake-Signature", signature}});
    if (produced) expect(reply, produced, "");
    // A signature is used up only by a request that was accepted: where Kafka is down (503),
    // the same signature retried is answered like the first, not as a replay.
    const auto again = send("POST", path, body, {bearer(kSignerApiKey), {"X-Intake-Signature", signature}});
    if (reply.status / 100 == 2) {
      expect(again, 401, "signature_replayed");
    } else {
      expect(again, reply.status, "");
    }
    // Broken requests that carry a key: the error must not echo the head.
    testing::HttpConnection huge("127.0.0.1", port);
    huge.send_raw("POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kApiKey +
                  "\r\nX-Pad: " + std::string(32 * 1024, 'p') + "\r\n\r\n");
    reply = huge.read_reply();
    answers += transcript(reply);
    expect(reply, 431, "request_header_too_large");
    testing::HttpConnection bad("127.0.0.1", port);
    bad.send_raw("POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kWrongApiKey +
                 "\r\nContent-Length: abc\r\n\r\n");
    reply = bad.read_reply();
    answers += transcript(reply);
    expect(reply, 400, "bad_request");
    // The admin endpoint: without, with a wrong and with the right token.
    expect(send("GET", "/admin/config", "", {}), 401, "invalid_admin_token");
    expect(send("GET", "/admin/config", "", {bearer(kWrongAdminToken)}), 401, "invalid_admin_token");
    expect(send("GET", "/admin/config", "", {basic("admin", kAdminTokenValue)}), 401, "invalid_admin_token");
    expect(send("GET", "/admin/config", "", {bearer(kAdminTokenValue)}), 200, "");
    send("GET", "/metrics", "", {});
    send("GET", "/healthz", "", {});
    send("GET", "/readyz", "", {});
  }
};

TEST_F(Secrets, NoSecretAppearsInLogsMetricsAdminAnswersOrErrorBodies) {
  const auto needles = all_needles();
  const std::string topic = testing::unique_name("secrets.traffic");
  // Gateway A produces to the real broker; gateway B has SASL credentials the broker's
  // plaintext listener cannot take, so librdkafka fails (and logs, at debug) with them in hand.
  auto working = start({});
  auto sasl = start({{"security.protocol", "SASL_PLAINTEXT"},
                     {"sasl.mechanism", "PLAIN"},
                     {"sasl.username", "intake-sasl-user"},
                     {"sasl.password", kSaslPassword},
                     {"debug", "generic,broker,security,conf,protocol"}});

  std::string answers_a;
  std::string answers_b;
  exercise(working->port(), topic, true, answers_a);
  exercise(sasl->port(), topic, false, answers_b);
  // Let B's producer try, fail and log a few times.
  std::this_thread::sleep_for(std::chrono::seconds(3));

  std::vector<std::string> leaks;
  const auto scan = [&](const std::string& where, const std::string& text) {
    for (auto& leak : find_secrets(where, text, needles)) leaks.push_back(std::move(leak));
  };
  const std::vector<std::pair<std::string, std::unique_ptr<testing::GatewayProcess>*>> gateways = {{"A", &working},
                                                                                                   {"B (SASL)", &sasl}};
  std::string all_logs;
  for (const auto& [name, gateway] : gateways) {
    const std::uint16_t port = (*gateway)->port();
    scan(name + " /metrics", testing::http_request("127.0.0.1", port, "GET", "/metrics").body);
    // Every /admin/* endpoint (src/ops/admin_handler.cc serves one: /admin/config), and paths
    // under /admin/ that do not exist, authenticated.
    for (const std::string path : {"/admin/config", "/admin/", "/admin/keys", "/admin/config?secrets=true"}) {
      const auto reply = testing::http_request("127.0.0.1", port, "GET", path, "",
                                               {{"Authorization", std::string("Bearer ") + kAdminTokenValue}});
      scan(name + " GET " + path, transcript(reply));
    }
    EXPECT_EQ((*gateway)->stop(SIGTERM), 0) << (*gateway)->log_tail();
    const std::string log = (*gateway)->log_tail(std::size_t{1} << 30);
    scan(name + " log", log);
    std::printf("[secrets] gateway %s wrote %zu log bytes (--log-level trace)\n", name.c_str(), log.size());
    all_logs += log;
  }
  scan("answers of A", answers_a);
  scan("answers of B", answers_b);
  // The scan is real: the debug log reached the file (B's librdkafka lines), and the scanner
  // finds each kind of planted secret in a copy of what was scanned.
  EXPECT_NE(all_logs.find("librdkafka"), std::string::npos) << "the verbose log was not captured";
  EXPECT_NE(all_logs.find("sasl"), std::string::npos) << "librdkafka's SASL debug lines were not captured";
  for (const auto& planted : {std::string(kSaslPassword), encoding::base64_encode(std::string("secrets:") + kApiKey),
                              crypto::to_hex(crypto::sha256(kAdminTokenValue)), hex(kSigningSecret, false)}) {
    EXPECT_FALSE(find_secrets("planted", all_logs + "\n" + planted + "\n" + answers_a, needles).empty()) << planted;
  }
  EXPECT_TRUE(leaks.empty()) << leaks.size() << " leaks; first: " << (leaks.empty() ? "" : leaks.front());
  for (const auto& leak : leaks) std::printf("[secrets] LEAK %s\n", leak.c_str());
  std::printf(
      "[secrets] %zu needles (8 secrets in 6 forms each, 2 Basic credentials) over %zu log bytes and %zu answer "
      "bytes: %zu found\n",
      needles.size(), all_logs.size(), answers_a.size() + answers_b.size(), leaks.size());
}

}  // namespace
}  // namespace intake
