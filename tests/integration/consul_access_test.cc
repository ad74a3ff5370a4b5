// Authentication, signing, expiry and rate limits through the real gateway, with every change
// made live through the real Consul agent.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "consul_fixture.h"
#include "crypto/digest.h"
#include "eventually.h"
#include "policy/signature.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::key_json;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ConsulAccessTest : public ConsulConfigTest {
 protected:
  testing::HttpReply send(const std::string& secret, const std::string& body,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + secret);
    return testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + topic, body, headers);
  }
};

TEST_F(ConsulAccessTest, RateLimitsApplyAndChangeLiveWithoutResettingOtherKeys) {
  start_gateway();
  consul->put(prefix + "keys/slow", key_json("slow-secret", {topic}, R"(,"rate":{"per_sec":0.2,"burst":3})"));
  consul->put(prefix + "keys/other", key_json("other-secret", {topic}, R"(,"rate":{"per_sec":0.2,"burst":2})"));
  ASSERT_TRUE(eventually([&] { return send("other-secret", "x").status == 202; }));
  EXPECT_EQ(send("other-secret", "x").status, 202);
  EXPECT_EQ(send("other-secret", "x").status, 429);  // burst of 2 used up

  int accepted = 0;
  testing::HttpReply refused;
  for (int i = 0; i < 5; ++i) {
    auto reply = send("slow-secret", "x");
    if (reply.status == 202)
      ++accepted;
    else
      refused = reply;
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.body.find(R"("code":"rate_limited")"), std::string::npos) << refused.body;
  EXPECT_GE(std::stoi(refused.header("retry-after")), 1);

  // Raise slow's limit live: it is admitted again soon after; `other` keeps its empty bucket.
  consul->put(prefix + "keys/slow", key_json("slow-secret", {topic}, R"(,"rate":{"per_sec":1000,"burst":1000})"));
  EXPECT_TRUE(eventually([&] { return send("slow-secret", "x").status == 202; }, 15s));
  EXPECT_EQ(send("other-secret", "x").status, 429);
  // Removing the limit entirely lets every request through.
  consul->put(prefix + "keys/other", key_json("other-secret", {topic}));
  EXPECT_TRUE(eventually([&] { return send("other-secret", "x").status == 202; }));
}

TEST_F(ConsulAccessTest, ByteRateLimitsCountRecordSizes) {
  start_gateway();
  consul->put(prefix + "keys/bytes",
              key_json("bytes-secret", {topic}, R"(,"rate":{"per_sec":1000,"bytes_per_sec":10,"bytes_burst":100})"));
  ASSERT_TRUE(eventually([&] { return send("bytes-secret", std::string(60, 'a')).status == 202; }));
  EXPECT_EQ(send("bytes-secret", std::string(60, 'a')).status, 429);
  EXPECT_EQ(send("bytes-secret", std::string(101, 'a')).status, 413);  // can never fit
}

TEST_F(ConsulAccessTest, SignedKeysNeedAFreshValidSignatureOnce) {
  start_gateway();
  const std::string signing_secret = "signing-secret-0123456789";
  consul->put(prefix + "keys/signer",
              key_json("signer-secret", {topic}, R"(,"signing_secret":")" + signing_secret + "\""));
  ASSERT_TRUE(eventually(
      [&] { return send("signer-secret", "payload").body.find("signature_required") != std::string::npos; }));

  const std::string body = R"({"order":42})";
  const std::string signature = policy::sign_request(signing_secret, unix_now(), body);
  EXPECT_EQ(send("signer-secret", body, {{"X-Intake-Signature", signature}}).status, 202);
  auto replay = send("signer-secret", body, {{"X-Intake-Signature", signature}});
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("signature_replayed"), std::string::npos) << replay.body;
  auto tampered = send("signer-secret", R"({"order":43})",
                       {{"X-Intake-Signature", policy::sign_request(signing_secret, unix_now(), body)}});
  EXPECT_NE(tampered.body.find("invalid_signature"), std::string::npos) << tampered.body;
  auto stale = send("signer-secret", body,
                    {{"X-Intake-Signature", policy::sign_request(signing_secret, unix_now() - 3600, body)}});
  EXPECT_NE(stale.body.find("signature_expired"), std::string::npos) << stale.body;
  auto wrong_key = send("signer-secret", body,
                        {{"X-Intake-Signature", policy::sign_request("some-other-secret-xx", unix_now(), body)}});
  EXPECT_NE(wrong_key.body.find("invalid_signature"), std::string::npos) << wrong_key.body;
}

TEST_F(ConsulAccessTest, ExpiredKeysAreRefusedUntilRenewed) {
  start_gateway();
  consul->put(prefix + "keys/temp", key_json("temp-secret", {topic}, R"(,"expires_at":1000000000)"));
  ASSERT_TRUE(eventually([&] { return send("temp-secret", "x").body.find("key_expired") != std::string::npos; }));
  EXPECT_EQ(send("temp-secret", "x").status, 401);
  consul->put(prefix + "keys/temp", key_json("temp-secret", {topic}, R"(,"expires_at":"2100-01-01T00:00:00Z")"));
  EXPECT_TRUE(eventually([&] { return send("temp-secret", "x").status == 202; }));
}

TEST_F(ConsulAccessTest, SecretsNeverAppearInLogsOrAdminOutput) {
  start_gateway();
  const std::string secret = "api-secret-never-shown-7f3a";
  const std::string digest = crypto::to_hex(crypto::sha256(secret));
  const std::string signing_secret = "signing-secret-never-shown-9c1e";
  consul->put(prefix + "keys/hidden",
              key_json(secret, {topic}, R"(,"signing_secret":")" + signing_secret + R"(","rate":{"per_sec":1})"));
  ASSERT_TRUE(eventually([&] { return admin_config().find(R"("id":"hidden")") != std::string::npos; }))
      << admin_config();
  EXPECT_NE(send(secret, "x").body.find("signature_required"), std::string::npos);
  send(secret, "x", {{"X-Intake-Signature", "t=1,v1=" + std::string(64, 'a')}});
  send(secret + "-wrong", "x");
  // Rejected updates whose values carry secrets: the errors must not echo them. The builder
  // names only the first bad entry of a tree, and keys/broken sorts before keys/short, so
  // keys/short goes first and each is seen rejected in /admin/config (which the gateway
  // updates after logging the rejection) before the next change and before the log is read.
  const auto rejected = [&](const std::string& key, std::uint64_t count) {
    return eventually([&] {
      simdjson::dom::parser parser;
      const std::string body = admin_config();
      simdjson::dom::element state;
      std::uint64_t rejections = 0;
      std::string_view error;
      return parser.parse(body).get(state) == simdjson::SUCCESS &&
             state["counters"]["rejected"].get_uint64().get(rejections) == simdjson::SUCCESS && rejections >= count &&
             state["last_rejected"]["error"].get_string().get(error) == simdjson::SUCCESS &&
             error.rfind(prefix + key + ": ", 0) == 0;
    });
  };
  consul->put(prefix + "keys/short",
              R"({"secret_sha256":")" + digest + R"(","signing_secret":"tiny-)" + secret + R"("})");
  ASSERT_TRUE(rejected("keys/short", 1)) << admin_config();
  consul->put(prefix + "keys/broken",
              R"({"secret_sha256":")" + digest + R"(","signing_secret":")" + signing_secret + R"(",)");
  ASSERT_TRUE(rejected("keys/broken", 2)) << admin_config();
  const std::string admin = admin_config();
  EXPECT_NE(admin.find(R"("id":"hidden")"), std::string::npos) << admin;
  EXPECT_NE(admin.find(R"("signed":true)"), std::string::npos) << admin;
  const std::string log = gateway->log_tail(1 << 20);
  for (const auto& needle : {secret, digest, signing_secret}) {
    EXPECT_EQ(admin.find(needle), std::string::npos) << needle << " in /admin/config";
    EXPECT_EQ(log.find(needle), std::string::npos) << needle << " in the log";
  }
}

}  // namespace
}  // namespace intake
