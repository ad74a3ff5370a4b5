// What the client is told when the producer itself refuses, against the real broker (not a
// fake sink): a full producer queue while the broker does not answer (429 with Retry-After), and
// a sync record over the broker's own message.max.bytes (413 record_too_large).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "metrics_text.h"
#include "peers.h"

namespace intake {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "producer-errors-secret";
const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", std::string("Bearer ") + kSecret}};

// A "broker" that completes TCP handshakes (the kernel does, from the backlog) and never
// answers: librdkafka neither connects fully nor concludes that the broker is down.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

testing::GatewayYaml errors_yaml(const std::string& bootstrap) {
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = bootstrap;
  yaml.shutdown_flush_ms = 500;
  yaml.keys.push_back({"errors", kSecret, {"errors.*"}});
  return yaml;
}

TEST(ProducerErrors, AFullQueueWhileTheBrokerDoesNotAnswerIs429WithRetryAfter) {
  SilentListener silent;
  auto yaml = errors_yaml("127.0.0.1:" + std::to_string(silent.port()));
  yaml.kafka_fields = {{"max_queued_records", "5"}};
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  int accepted = 0;
  testing::HttpReply refused;
  for (int i = 0; i < 20; ++i) {
    auto reply = connection.request("POST", "/v1/topics/errors.queue", "r" + std::to_string(i), kAuth);
    if (reply.status != 202) {
      refused = std::move(reply);
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(refused.status, 429) << refused.body << gateway.log_tail();
  EXPECT_NE(refused.body.find(R"("code":"backpressure")"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "1");
  // Without a spool the five accepted records can only be lost at shutdown: the exit code
  // says so (1), and the log counts them.
  EXPECT_EQ(gateway.stop(SIGTERM), 1) << gateway.log_tail();
  EXPECT_NE(gateway.log_tail().find("5 lost at shutdown"), std::string::npos) << gateway.log_tail();
}

TEST(ProducerErrors, ASyncRecordOverTheBrokersMessageMaxBytesIs413) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  auto yaml = errors_yaml(bootstrap);
  // The gateway and the producer would take 3 MB; the broker (message.max.bytes ~1 MiB) will not.
  yaml.server_fields = {{"max_body_bytes", "4194304"}};
  yaml.kafka_properties = {{"message.max.bytes", "5000000"}};
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::string topic = testing::unique_name("errors.large");
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  const auto fits = connection.request("POST", "/v1/topics/" + topic + "?sync=true", "small", kAuth);
  ASSERT_EQ(fits.status, 200) << fits.body;
  // Random letters: compression (lz4 by default) must not shrink it under the broker's limit.
  std::string large(3'000'000, 'a');
  std::uint64_t state = 88172645463325252ull;
  for (char& c : large) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    c = static_cast<char>('A' + state % 58);
  }
  const auto refused = connection.request("POST", "/v1/topics/" + topic + "?sync=true", large, kAuth);
  EXPECT_EQ(refused.status, 413) << refused.body << gateway.log_tail();
  EXPECT_NE(refused.body.find(R"("code":"record_too_large")"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << refused.body;
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  EXPECT_EQ(testing::consume_to_end(bootstrap, topic).size(), 1u);  // only the small one
}

TEST(ProducerErrors, ARecordSentWhileTheGatewayDrainsIs503ShuttingDown) {
  // A silent broker keeps a sync request, and so the drain, open long enough to send into it.
  SilentListener silent;
  auto yaml = errors_yaml("127.0.0.1:" + std::to_string(silent.port()));
  yaml.shutdown_flush_ms = 5000;
  yaml.server_fields = {{"sync_timeout_ms", "2000"}};  // answered (504) before the drain gives up
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  testing::HttpConnection pending("127.0.0.1", yaml.port);
  testing::HttpConnection probe("127.0.0.1", yaml.port);
  // Keep-alive connections opened before the drain; each answer during the drain closes its
  // connection, so a send that races the start of the drain uses up one of them.
  std::vector<std::unique_ptr<testing::HttpConnection>> idle;
  for (int i = 0; i < 8; ++i) idle.push_back(std::make_unique<testing::HttpConnection>("127.0.0.1", yaml.port));
  ASSERT_EQ(idle[0]->request("POST", "/v1/topics/errors.drain", "before", kAuth).status, 202);
  pending.send_raw(testing::build_request("POST", "/v1/topics/errors.drain?sync=true", "waits", kAuth));
  // The sync record is with the producer (waiting for the silent broker) before the drain starts.
  ASSERT_TRUE(testing::eventually(
      [&] {
        return testing::metric_value(probe.request("GET", "/metrics").body, "intake_records_produced_total") == 2;
      },
      10s, 5ms));
  gateway.send_signal(SIGTERM);
  // Draining once /readyz says so, or once an answer closed the probe's connection (which the
  // gateway does to every connection while it drains).
  bool draining = false;
  ASSERT_TRUE(testing::eventually(
      [&] {
        try {
          const auto ready = probe.request("GET", "/readyz");
          draining = ready.status == 503;
          if (draining) {
            EXPECT_NE(ready.body.find(R"("code":"shutting_down")"), std::string::npos) << ready.body;
          }
        } catch (const std::exception&) {
          draining = true;
        }
        return draining;
      },
      10s, 5ms));
  testing::HttpReply refused;
  for (auto& connection : idle) {
    try {
      refused = connection->request("POST", "/v1/topics/errors.drain", "during-drain", kAuth);
      if (refused.status != 202) break;  // a 202 raced the drain's start: try the next connection
    } catch (const std::exception&) {
    }
  }
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find(R"("code":"shutting_down")"), std::string::npos) << refused.body;
  EXPECT_FALSE(refused.header("retry-after").empty());
  EXPECT_EQ(refused.header("connection"), "close");
  // The pending sync request is answered too (no broker: not delivered), then the gateway exits.
  const auto answered = pending.read_reply(15'000);
  EXPECT_EQ(answered.status, 504) << answered.body;
  EXPECT_GE(gateway.wait_exit(), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
