// A blocking HTTPS/1.1 client over one TLS connection, for tests: what the server's certificate
// is, what ALPN chose, and plain Content-Length framed requests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.h"

namespace intake::testing {

struct TlsClientOptions {
  std::string ca_file;              // trust anchor for the server's certificate
  std::string cert_file, key_file;  // client certificate, if any
  std::vector<std::string> alpn;    // protocols offered; empty = no ALPN
  int max_version = 0;              // e.g. TLS1_1_VERSION; 0 = OpenSSL's default
  int min_version = 0;
};

class TlsConnection {
 public:
  // Connects and handshakes; throws std::runtime_error saying why it failed.
  TlsConnection(const std::string& host, std::uint16_t port, const TlsClientOptions& options);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  std::string peer_sha256() const;  // the server certificate's fingerprint
  std::string alpn() const;         // the protocol the server selected, empty for none
  int version() const;              // negotiated protocol version

  HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  // True when the server ends the connection (close_notify or EOF) within timeout_ms.
  bool closed_by_peer(int timeout_ms = 2'000);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace intake::testing
