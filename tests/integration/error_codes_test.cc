// Error codes and request options no other test provokes over HTTP, against the real binary:
// the admin token, a disabled key, oversized headers, an oversized body announced with
// `Expect: 100-continue`, the X-Intake-Key header, a full disk under the spool, and the
// registry's default_mode: sync against ?sync=false; the connection layer's YAML (caps, clocks).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "consul_fixture.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"
#include "temp_dir.h"

namespace intake {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "codes-secret";

testing::GatewayYaml codes_yaml(const std::string& bootstrap) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap;
  yaml.keys.push_back({"codes", kSecret, {"codes.*"}});
  yaml.keys.push_back({"off", "disabled-secret", {"codes.*"}, "enabled: false"});
  return yaml;
}

bool has_code(const testing::HttpReply& reply, const std::string& code) {
  return reply.body.find(R"("code":")" + code + "\"") != std::string::npos;
}

// POSTs 8 KiB records to `topic` until one is not a 202 (at most `limit`); returns that answer.
testing::HttpReply post_until_refused(std::uint16_t port, const std::string& topic, int limit, int& accepted) {
  testing::HttpConnection connection("127.0.0.1", port);
  const std::string body(8 * 1024, 'd');
  for (int i = 0; i < limit; ++i) {
    auto reply =
        connection.request("POST", "/v1/topics/" + topic, body, {{"Authorization", std::string("Bearer ") + kSecret}});
    if (reply.status != 202) return reply;
    ++accepted;
  }
  return {};
}

class ErrorCodes : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    yaml = codes_yaml(bootstrap);
    yaml.server_fields = {{"max_header_bytes", "2048"}, {"max_body_bytes", "65536"}};
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }
  std::string bootstrap;
  testing::GatewayYaml yaml;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(ErrorCodes, AdminEndpointsRefuseAWrongTokenWith401) {
  const auto wrong = testing::http_request("127.0.0.1", yaml.port, "GET", "/admin/config", "",
                                           {{"Authorization", "Bearer not-the-admin-token"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(has_code(wrong, "invalid_admin_token")) << wrong.body;
  const auto none = testing::http_request("127.0.0.1", yaml.port, "GET", "/admin/config");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(has_code(none, "invalid_admin_token")) << none.body;
  const auto right = testing::http_request("127.0.0.1", yaml.port, "GET", "/admin/config", "",
                                           {{"Authorization", std::string("Bearer ") + testing::kAdminToken}});
  EXPECT_EQ(right.status, 200) << right.body;
}

TEST_F(ErrorCodes, ADisabledKeyIs403KeyDisabled) {
  const auto reply = testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/codes.off", "x",
                                           {{"Authorization", "Bearer disabled-secret"}});
  EXPECT_EQ(reply.status, 403);
  EXPECT_TRUE(has_code(reply, "key_disabled")) << reply.body;
}

TEST_F(ErrorCodes, HeadersOverMaxHeaderBytesAre431) {
  const auto reply = testing::http_request(
      "127.0.0.1", yaml.port, "POST", "/v1/topics/codes.h", "x",
      {{"Authorization", std::string("Bearer ") + kSecret}, {"X-Padding", std::string(4096, 'p')}});
  EXPECT_EQ(reply.status, 431);
  EXPECT_TRUE(has_code(reply, "request_header_too_large")) << reply.body;
}

TEST_F(ErrorCodes, AnOversizedBodyAnnouncedWithExpectContinueGets413NotContinue) {
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  connection.send_raw("POST /v1/topics/codes.big HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                      std::string(kSecret) + "\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
  // The first answer is the refusal: a "100 Continue" here would invite the client to send
  // the megabyte the gateway will not take.
  const auto reply = connection.read_reply();
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(has_code(reply, "payload_too_large")) << reply.body;
}

TEST_F(ErrorCodes, TheXIntakeKeyHeaderAuthenticatesLikeBearer) {
  const std::string topic = testing::unique_name("codes.header");
  const auto reply = testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/" + topic + "?sync=true",
                                           "by-header", {{"X-Intake-Key", kSecret}});
  EXPECT_EQ(reply.status, 200) << reply.body;
  const auto wrong =
      testing::http_request("127.0.0.1", yaml.port, "POST", "/v1/topics/" + topic, "x", {{"X-Intake-Key", "wrong"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(has_code(wrong, "invalid_api_key")) << wrong.body;
  EXPECT_EQ(testing::consume_to_end(bootstrap, topic).size(), 1u);
}

// A spool on a 1 MiB tmpfs with Kafka unreachable: the disk fills long before max_bytes, and the
// client is told 507 spool_full; everything accepted is on that disk.
TEST(ErrorCodesOnDisk, AFullDiskUnderTheSpoolIs507SpoolFull) {
  testing::TempDir dir("intake-tmpfs");
  if (::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
    FAIL() << "cannot mount a 1 MiB tmpfs on " << dir.path() << ": " << std::strerror(errno)
           << " (the test suite runs as root on its machines)";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{dir.path()};
  auto yaml = codes_yaml("127.0.0.1:" + std::to_string(testing::free_port()));  // no broker there
  yaml.spool_dir = dir.path();
  yaml.spool_mode = "write_ahead";
  yaml.spool_segment_bytes = 256 * 1024;
  yaml.shutdown_flush_ms = 500;
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  int accepted = 0;
  const auto refused = post_until_refused(yaml.port, "codes.disk", 1000, accepted);
  EXPECT_EQ(refused.status, 507) << refused.body << gateway.log_tail();
  EXPECT_TRUE(has_code(refused, "spool_full")) << refused.body;
  EXPECT_FALSE(refused.header("retry-after").empty());
  EXPECT_GT(accepted, 20);
  EXPECT_LT(accepted, 128);  // 1 MiB of disk, not the 1 GiB default max_bytes
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

// A write the spool cannot make (here: the file-size limit, EFBIG; an I/O error is the same
// path) is 500 spool_write_failed, and the gateway keeps serving.
TEST(ErrorCodesOnDisk, AWriteTheSpoolCannotMakeIs500SpoolWriteFailed) {
  testing::TempDir dir("intake-fsize");
  auto yaml = codes_yaml("127.0.0.1:" + std::to_string(testing::free_port()));  // no broker there
  yaml.spool_dir = dir.path();
  yaml.spool_mode = "write_ahead";
  yaml.spool_segment_bytes = 4 * 1024 * 1024;  // one segment would outgrow the limit below
  yaml.shutdown_flush_ms = 500;
  testing::GatewayProcess gateway(yaml.render(), yaml.port, 256 * 1024);
  int accepted = 0;
  const auto refused = post_until_refused(yaml.port, "codes.fsize", 100, accepted);
  EXPECT_EQ(refused.status, 500) << refused.body;
  EXPECT_TRUE(has_code(refused, "spool_write_failed")) << refused.body;
  EXPECT_GT(accepted, 10);
  EXPECT_LT(accepted, 40);
  EXPECT_EQ(testing::http_request("127.0.0.1", yaml.port, "GET", "/healthz").status, 200);
  EXPECT_GE(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

// The registry's settings make sync the default; ?sync=false still asks for async.
TEST_F(ConsulConfigTest, DefaultModeSyncFromTheRegistryAndSyncFalseOverridesIt) {
  consul->put(prefix + "keys/team", testing::key_json("team-secret", {topic}));
  consul->put(prefix + "settings", R"({"default_mode":"sync"})");
  start_gateway();
  const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer team-secret"}};
  const auto sync = testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + topic, "s", auth);
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_NE(sync.body.find(R"("offset":)"), std::string::npos) << sync.body;
  const auto async =
      testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + topic + "?sync=false", "a", auth);
  EXPECT_EQ(async.status, 202) << async.body;
  EXPECT_EQ(async.body, R"({"accepted":1})");
  const auto header = testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + topic, "h",
                                            {{"Authorization", "Bearer team-secret"}, {"X-Intake-Sync", "false"}});
  EXPECT_EQ(header.status, 202) << header.body;
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto delivery =
      testing::count_delivery(testing::required_env("INTAKE_KAFKA_BOOTSTRAP"), topic, {"s", "a", "h"});
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(delivery.duplicated, 0u);
}

// The connection layer's YAML reaches the real gateway: a per-client cap, the header clock, and
// a refusal from the headers that does not wait for the body.
class ConnectionLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    yaml = codes_yaml(testing::required_env("INTAKE_KAFKA_BOOTSTRAP"));
    yaml.server_fields = {{"max_connections_per_ip", "3"}, {"header_timeout_ms", "500"}, {"retry_after_s", "4"}};
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }
  testing::GatewayYaml yaml;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(ConnectionLimits, OverThePerClientCapIs503TooManyConnectionsWithTheConfiguredRetryAfter) {
  std::vector<std::unique_ptr<testing::HttpConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<testing::HttpConnection>("127.0.0.1", yaml.port));
    EXPECT_EQ(held.back()->request("GET", "/healthz").status, 200);
  }
  testing::HttpConnection over("127.0.0.1", yaml.port);
  const auto reply = over.read_reply();
  EXPECT_EQ(reply.status, 503);
  EXPECT_TRUE(has_code(reply, "too_many_connections")) << reply.body;
  EXPECT_EQ(reply.header("retry-after"), "4");
  // The held connections are still served, and one given back makes room.
  EXPECT_EQ(held.front()->request("GET", "/healthz").status, 200);
  held.pop_back();
  EXPECT_TRUE(testing::eventually(
      [&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/healthz").status == 200; }));
}

TEST_F(ConnectionLimits, HeadersThatNeverEndAre408AtTheHeaderTimeout) {
  testing::HttpConnection slow("127.0.0.1", yaml.port);
  slow.send_raw("POST /v1/topics/codes.slow HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const auto reply = slow.read_reply(5'000);
  EXPECT_EQ(reply.status, 408);
  EXPECT_TRUE(has_code(reply, "request_timeout")) << reply.body;
  EXPECT_NE(reply.body.find("server.header_timeout_ms"), std::string::npos);
}

TEST_F(ConnectionLimits, AWrongKeyIsRefusedBeforeTheBodyIsSent) {
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  // Only the head: the 401 must come without the 60,000 announced bytes.
  connection.send_raw(
      "POST /v1/topics/codes.a HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n"
      "Content-Length: 60000\r\n\r\n");
  const auto reply = connection.read_reply(5'000);
  EXPECT_EQ(reply.status, 401);
  EXPECT_TRUE(has_code(reply, "invalid_api_key")) << reply.body;
  EXPECT_EQ(reply.header("connection"), "close");
}

}  // namespace
}  // namespace intake
