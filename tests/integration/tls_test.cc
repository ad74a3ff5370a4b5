// TLS on the real gateway against the real broker: records sent over TLS are in Kafka, a
// certificate swapped twice under load fails no request, and a client certificate
// authenticates as the API key that lists it.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "kafka_reader.h"
#include "peers.h"
#include "temp_dir.h"
#include "test_certs.h"
#include "tls_client.h"

namespace intake {
namespace {

using testing::TlsClientOptions;
using testing::TlsConnection;

constexpr const char* kSecret = "tls-integration-secret";

class TlsGateway : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    certs = testing::make_test_certs(dir.path());
    live_cert = dir.path() + "/live.crt";
    live_key = dir.path() + "/live.key";
    testing::replace_file(certs.server_cert, live_cert);
    testing::replace_file(certs.server_key, live_key);
  }

  void start(const std::string& client_auth) {
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    yaml.keys.push_back({"tls-secret", kSecret, {"tls.*"}});
    yaml.keys.push_back(
        {"tls-cert", "tls-cert-unused-secret", {"tls.cert*"}, "client_certs: [\"san:spiffe://intake.test/client\"]"});
    yaml.server_fields = {{"tls", "{cert_file: \"" + live_cert + "\", key_file: \"" + live_key +
                                      "\", client_ca_file: \"" + certs.ca_cert + "\", client_auth: " + client_auth +
                                      ", reload_interval_ms: 200}"}};
    port = yaml.port;
    const TlsClientOptions probe = with_client_cert();
    gateway = std::make_unique<testing::GatewayProcess>(
        yaml.render(), yaml.port, 0, std::vector<std::string>{}, [probe](std::uint16_t at) {
          return TlsConnection("127.0.0.1", at, probe).request("GET", "/healthz").status == 200;
        });
  }

  TlsClientOptions plain_client() const {
    TlsClientOptions options;
    options.ca_file = certs.ca_cert;
    return options;
  }
  TlsClientOptions with_client_cert() const {
    TlsClientOptions options = plain_client();
    options.cert_file = certs.client_cert;
    options.key_file = certs.client_key;
    return options;
  }
  static std::vector<std::pair<std::string, std::string>> bearer() {
    return {{"Authorization", std::string("Bearer ") + kSecret}};
  }

  testing::TempDir dir{"intake-tls-it"};
  testing::TestCerts certs;
  std::string live_cert, live_key, bootstrap;
  std::uint16_t port = 0;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(TlsGateway, RecordsSentOverTlsAreInKafka) {
  start("none");
  const std::string topic = testing::unique_name("tls.roundtrip");
  TlsConnection connection("127.0.0.1", port, plain_client());
  std::set<std::string> accepted;
  for (int i = 0; i < 5; ++i) {
    const std::string value = "over-tls-" + std::to_string(i);
    const auto reply = connection.request("POST", "/v1/topics/" + topic, value, bearer());
    ASSERT_EQ(reply.status, 202) << reply.body;
    accepted.insert(value);
  }
  const auto count = testing::count_delivery(bootstrap, topic, accepted);
  EXPECT_EQ(count.lost, 0u);
  EXPECT_EQ(count.unexpected, 0u);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

TEST_F(TlsGateway, SwappingTheCertificateTwiceUnderLoadFailsNoRequest) {
  start("none");
  const std::string topic = testing::unique_name("tls.reload");
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::set<std::string> accepted;
  std::vector<std::string> failures;
  const auto record = [&](const std::string& value, const testing::HttpReply& reply) {
    std::lock_guard lock(mutex);
    if (reply.status / 100 == 2) {
      accepted.insert(value);
    } else {
      failures.push_back(value + ": " + std::to_string(reply.status) + " " + reply.body);
    }
  };
  const auto fail = [&](const std::string& value, const std::exception& error) {
    std::lock_guard lock(mutex);
    failures.push_back(value + ": " + error.what());
  };
  // One client opens a connection per request; the other keeps one open throughout.
  std::thread fresh([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string value = "fresh-" + std::to_string(i);
      try {
        TlsConnection connection("127.0.0.1", port, plain_client());
        record(value, connection.request("POST", "/v1/topics/" + topic, value, bearer()));
      } catch (const std::exception& error) {
        fail(value, error);
      }
    }
  });
  std::thread kept([&] {
    try {
      TlsConnection connection("127.0.0.1", port, plain_client());
      for (int i = 0; !stop.load(); ++i) {
        const std::string value = "kept-" + std::to_string(i);
        try {
          record(value, connection.request("POST", "/v1/topics/" + topic, value, bearer()));
        } catch (const std::exception& error) {
          fail(value, error);
          return;
        }
      }
    } catch (const std::exception& error) {
      fail("kept-connect", error);
    }
  });
  const auto served = [&](const std::string& pem) {
    const std::string wanted = testing::pem_sha256(pem);
    return testing::eventually(
        [&] { return TlsConnection("127.0.0.1", port, plain_client()).peer_sha256() == wanted; });
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  testing::replace_file(certs.server2_key, live_key);
  testing::replace_file(certs.server2_cert, live_cert);
  EXPECT_TRUE(served(certs.server2_cert));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  testing::replace_file(certs.server_cert, live_cert);
  testing::replace_file(certs.server_key, live_key);
  EXPECT_TRUE(served(certs.server_cert));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop.store(true);
  fresh.join();
  kept.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  ASSERT_GT(accepted.size(), 20u);
  const auto count = testing::count_delivery(bootstrap, topic, accepted);
  EXPECT_EQ(count.lost, 0u);
  EXPECT_EQ(count.unexpected, 0u);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

TEST_F(TlsGateway, ClientCertificateAuthenticatesAsTheKeyThatListsIt) {
  start("optional");
  const std::string topic = testing::unique_name("tls.cert");
  TlsConnection certified("127.0.0.1", port, with_client_cert());
  auto reply = certified.request("POST", "/v1/topics/" + topic, "by-certificate");
  ASSERT_EQ(reply.status, 202) << reply.body;
  // The key's rights apply: tls-cert may not write outside tls.cert*.
  reply = certified.request("POST", "/v1/topics/" + testing::unique_name("tls.other"), "x");
  EXPECT_EQ(reply.status, 403) << reply.body;
  // An explicit API key wins over the certificate.
  reply = certified.request("POST", "/v1/topics/" + testing::unique_name("tls.other"), "by-secret", bearer());
  EXPECT_EQ(reply.status, 202) << reply.body;
  reply = certified.request("POST", "/v1/topics/" + topic, "x", {{"X-Intake-Key", "wrong"}});
  EXPECT_EQ(reply.status, 401) << reply.body;

  TlsConnection anonymous("127.0.0.1", port, plain_client());
  reply = anonymous.request("POST", "/v1/topics/" + topic, "no-credential");
  EXPECT_EQ(reply.status, 401) << reply.body;

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();  // flushes what was accepted
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value, "by-certificate");
}

TEST_F(TlsGateway, RequiredClientAuthRefusesAConnectionWithoutACertificate) {
  start("required");
  const std::string topic = testing::unique_name("tls.cert.required");
  EXPECT_THROW(
      {
        TlsConnection anonymous("127.0.0.1", port, plain_client());
        anonymous.request("POST", "/v1/topics/" + topic, "refused", bearer());
      },
      std::runtime_error);
  TlsConnection certified("127.0.0.1", port, with_client_cert());
  EXPECT_EQ(certified.request("POST", "/v1/topics/" + topic, "admitted").status, 202);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

}  // namespace
}  // namespace intake
