// TLS on the listener over real loopback sockets: the handshake and its limits, ALPN, live
// certificate reload, and client certificates handed to the request.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include "eventually.h"
#include "http/router.h"
#include "http/server.h"
#include "http/tls_context.h"
#include "temp_dir.h"
#include "test_certs.h"
#include "tls_client.h"

namespace intake {
namespace {

using testing::TlsClientOptions;
using testing::TlsConnection;

// Answers who the connection says the caller is.
class WhoAmI final : public http::Handler {
 public:
  http::Response handle(const http::Request& request, const http::RouteParams& /*params*/) override {
    http::Response response;
    response.content_type = "text/plain";
    if (request.peer == nullptr) {
      response.body = "anonymous";
    } else {
      response.body = "sha256:" + request.peer->sha256;
      for (const auto& san : request.peer->sans) response.body += " san:" + san;
    }
    return response;
  }
};

class TlsListenerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_dir_ = new testing::TempDir("intake-tls-certs");
    certs_ = new testing::TestCerts(testing::make_test_certs(certs_dir_->path()));
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete certs_dir_;
  }

  void SetUp() override {
    live_cert_ = dir_.path() + "/live.crt";
    live_key_ = dir_.path() + "/live.key";
    testing::replace_file(certs().server_cert, live_cert_);
    testing::replace_file(certs().server_key, live_key_);
  }

  void start(http::TlsOptions::ClientAuth client_auth = http::TlsOptions::ClientAuth::kNone) {
    router_.add(http::Method::kGet, "/whoami", who_);
    options_.address = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.header_timeout_ms = 500;
    options_.tls = http::TlsOptions{.cert_file = live_cert_,
                                    .key_file = live_key_,
                                    .client_ca_file = certs().ca_cert,
                                    .client_auth = client_auth,
                                    .reload_interval_ms = 100};
    server_ = std::make_unique<http::HttpServer>(options_, router_);
    server_->start();
  }

  static TlsClientOptions client() {
    TlsClientOptions options;
    options.ca_file = certs().ca_cert;
    return options;
  }
  static const testing::TestCerts& certs() { return *certs_; }
  std::uint16_t port() const { return server_->port(); }

  static testing::TempDir* certs_dir_;
  static testing::TestCerts* certs_;
  testing::TempDir dir_{"intake-tls"};
  std::string live_cert_, live_key_;
  WhoAmI who_;
  http::Router router_;
  http::ServerOptions options_;
  std::unique_ptr<http::HttpServer> server_;
};

testing::TempDir* TlsListenerTest::certs_dir_ = nullptr;
testing::TestCerts* TlsListenerTest::certs_ = nullptr;

TEST_F(TlsListenerTest, ServesHttp11OverTlsWithKeepAliveAndSelectsAlpn) {
  start();
  auto options = client();
  options.alpn = {"h2", "http/1.1"};
  TlsConnection connection("127.0.0.1", port(), options);
  EXPECT_EQ(connection.alpn(), "http/1.1");
  EXPECT_GE(connection.version(), TLS1_2_VERSION);
  EXPECT_EQ(connection.peer_sha256(), testing::pem_sha256(certs().server_cert));
  // The test certificates live two days.
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto not_after_s = server_->tls()->counters().not_after_s.load();
  EXPECT_GT(not_after_s, now_s + 86'400);
  EXPECT_LT(not_after_s, now_s + 3 * 86'400);
  for (int i = 0; i < 3; ++i) {
    const auto reply = connection.request("GET", "/whoami");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "anonymous");
  }
}

TEST_F(TlsListenerTest, ServesClientWithoutAlpn) {
  start();
  TlsConnection connection("127.0.0.1", port(), client());
  EXPECT_EQ(connection.alpn(), "");
  EXPECT_EQ(connection.request("GET", "/whoami").status, 200);
}

TEST_F(TlsListenerTest, RefusesClientWhoseAlpnLacksHttp11) {
  start();
  auto options = client();
  options.alpn = {"h2"};
  EXPECT_THROW(TlsConnection("127.0.0.1", port(), options), std::runtime_error);
  EXPECT_TRUE(testing::eventually([&] { return server_->counters().tls_handshake_failures.load() >= 1; }));
}

TEST_F(TlsListenerTest, RefusesTls11) {
  start();
  auto options = client();
  options.max_version = TLS1_1_VERSION;
  EXPECT_THROW(TlsConnection("127.0.0.1", port(), options), std::runtime_error);
  EXPECT_TRUE(testing::eventually([&] { return server_->counters().tls_handshake_failures.load() >= 1; }));
}

TEST_F(TlsListenerTest, ClosesAStalledHandshakeAtTheHeaderTimeout) {
  start();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char byte;
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);  // closed by the server, well before 3 s
  ::close(fd);
  EXPECT_GE(server_->counters().tls_handshake_failures.load(), 1u);
}

TEST_F(TlsListenerTest, NewConnectionsGetAReloadedCertificateWhileOpenOnesKeepTheirs) {
  start();
  const std::string first = testing::pem_sha256(certs().server_cert);
  const std::string second = testing::pem_sha256(certs().server2_cert);
  TlsConnection before("127.0.0.1", port(), client());
  ASSERT_EQ(before.peer_sha256(), first);

  testing::replace_file(certs().server2_key, live_key_);
  testing::replace_file(certs().server2_cert, live_cert_);
  ASSERT_TRUE(testing::eventually([&] {
    TlsConnection after("127.0.0.1", port(), client());
    return after.peer_sha256() == second && after.request("GET", "/whoami").status == 200;
  }));
  EXPECT_EQ(before.request("GET", "/whoami").status, 200);
  EXPECT_EQ(before.peer_sha256(), first);
  EXPECT_GE(server_->tls()->counters().reloads.load(), 1u);
}

TEST_F(TlsListenerTest, RejectsAMismatchedOrUnreadableNewPairAndKeepsTheOldCertificate) {
  start();
  const std::string first = testing::pem_sha256(certs().server_cert);
  testing::replace_file(certs().server2_cert, live_cert_);  // the key stays server's: no match
  ASSERT_TRUE(testing::eventually([&] { return server_->tls()->counters().reload_failures.load() >= 1; }));
  {
    std::ofstream garbage(live_key_ + ".staged");
    garbage << "not a key\n";
  }
  std::filesystem::rename(live_key_ + ".staged", live_key_);
  ASSERT_TRUE(testing::eventually([&] { return server_->tls()->counters().reload_failures.load() >= 2; }));
  TlsConnection connection("127.0.0.1", port(), client());
  EXPECT_EQ(connection.peer_sha256(), first);
  EXPECT_EQ(connection.request("GET", "/whoami").status, 200);
  EXPECT_EQ(server_->tls()->counters().reloads.load(), 0u);

  // A good pair later is taken.
  testing::replace_file(certs().server2_key, live_key_);
  EXPECT_TRUE(testing::eventually([&] {
    return TlsConnection("127.0.0.1", port(), client()).peer_sha256() == testing::pem_sha256(certs().server2_cert);
  }));
}

TEST_F(TlsListenerTest, StartUpWithAKeyThatIsNotTheCertificatesFails) {
  testing::replace_file(certs().server2_key, live_key_);
  try {
    start();
    FAIL() << "start() should have thrown";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("is not the key of cert_file"), std::string::npos) << error.what();
  }
}

TEST_F(TlsListenerTest, RequiredClientCertificateReachesTheRequest) {
  start(http::TlsOptions::ClientAuth::kRequired);
  auto options = client();
  options.cert_file = certs().client_cert;
  options.key_file = certs().client_key;
  TlsConnection connection("127.0.0.1", port(), options);
  const auto reply = connection.request("GET", "/whoami");
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find("sha256:" + testing::pem_sha256(certs().client_cert)), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("san:spiffe://intake.test/client"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("san:client.intake.test"), std::string::npos) << reply.body;
}

TEST_F(TlsListenerTest, RequiredClientCertificateRefusesNoneAndStrangers) {
  start(http::TlsOptions::ClientAuth::kRequired);
  // With TLS 1.3 the refusal arrives after the client's handshake finishes: the request fails.
  const auto refused = [&](const TlsClientOptions& options) {
    try {
      TlsConnection connection("127.0.0.1", port(), options);
      connection.request("GET", "/whoami");
      return false;
    } catch (const std::runtime_error&) {
      return true;
    }
  };
  EXPECT_TRUE(refused(client()));
  auto stranger = client();
  stranger.cert_file = certs().stranger_cert;
  stranger.key_file = certs().stranger_key;
  EXPECT_TRUE(refused(stranger));
}

TEST_F(TlsListenerTest, OptionalClientCertificateTreatsAStrangerAsNoCertificate) {
  start(http::TlsOptions::ClientAuth::kOptional);
  auto stranger = client();
  stranger.cert_file = certs().stranger_cert;
  stranger.key_file = certs().stranger_key;
  TlsConnection connection("127.0.0.1", port(), stranger);
  EXPECT_EQ(connection.request("GET", "/whoami").body, "anonymous");
  TlsConnection none("127.0.0.1", port(), client());
  EXPECT_EQ(none.request("GET", "/whoami").body, "anonymous");
}

}  // namespace
}  // namespace intake
