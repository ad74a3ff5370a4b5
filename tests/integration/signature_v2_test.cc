// Signature v2 against the real binary and the real broker: a signed request is produced
// once, cannot be replayed nor sent to another topic, and a refused one (429) may be retried
// with the same nonce.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"
#include "policy/signature.h"

namespace intake {
namespace {

constexpr const char* kKey = "signer-v2-secret";
constexpr const char* kSigningSecret = "signing-secret-v2-0123456789";

using Headers = std::vector<std::pair<std::string, std::string>>;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// `headers` plus the X-Intake-Signature over them, as a client computes it.
Headers signed_headers(const std::string& path, const std::string& body, Headers headers, const std::string& nonce) {
  std::vector<policy::HeaderLine> lines;
  for (const auto& [name, value] : headers) lines.push_back({name, value});
  const policy::RequestToSign request{
      .method = "POST", .path = path, .query = "", .headers = lines, .copy_headers = {}, .body = body};
  headers.emplace_back("X-Intake-Signature", policy::sign_request_v2(kSigningSecret, request, unix_now(), nonce));
  return headers;
}

class SignatureV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    // One record per 5 s: the second request in a row is refused 429.
    yaml.keys.push_back({"signer",
                         kKey,
                         {"signed.*"},
                         std::string("signing_secret: \"") + kSigningSecret + "\", rate: {per_sec: 0.2, burst: 1}"});
    port = yaml.port;
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }

  testing::HttpReply post(const std::string& path, const std::string& body, const Headers& headers) {
    return testing::http_request("127.0.0.1", port, "POST", path, body, headers);
  }

  std::string bootstrap;
  std::uint16_t port = 0;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(SignatureV2, SignedOnceProducedOnceAndARefusedRequestMayBeRetried) {
  const std::string topic = testing::unique_name("signed.v2");
  const std::string other_topic = testing::unique_name("signed.v2-other");
  const std::string path = "/v1/topics/" + topic;
  const Headers base = {{"Authorization", std::string("Bearer ") + kKey},
                        {"Content-Type", "application/json"},
                        {"X-Intake-Record-Key", "order-1"}};

  const std::string first_body = R"({"order":1})";
  const Headers first = signed_headers(path, first_body, base, "it-nonce-first-0000000001");
  auto reply = post(path, first_body, first);
  ASSERT_EQ(reply.status, 202) << reply.body;

  reply = post(path, first_body, first);  // the very same bytes again
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"signature_replayed")"), std::string::npos) << reply.body;

  reply = post("/v1/topics/" + other_topic, first_body, first);  // the signature bound the topic
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"invalid_signature")"), std::string::npos) << reply.body;

  Headers second_base = base;
  second_base.back().second = "order-2";
  const std::string second_body = R"({"order":2})";
  const Headers second = signed_headers(path, second_body, second_base, "it-nonce-second-000000001");
  reply = post(path, second_body, second);
  ASSERT_EQ(reply.status, 429) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"rate_limited")"), std::string::npos) << reply.body;
  const int retry_after_s = std::stoi(reply.header("retry-after"));
  std::this_thread::sleep_for(std::chrono::seconds(retry_after_s) + std::chrono::milliseconds(300));
  reply = post(path, second_body, second);  // the same request, the same nonce
  ASSERT_EQ(reply.status, 202) << reply.body;

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 2u);
  std::map<std::string, std::string> by_key;
  for (const auto& record : records) by_key[record.key] = record.value;
  EXPECT_EQ(by_key["order-1"], first_body);
  EXPECT_EQ(by_key["order-2"], second_body);
}

}  // namespace
}  // namespace intake
