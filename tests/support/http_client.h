// A blocking HTTP/1.1 client over one TCP connection, for tests: exact control over the bytes
// sent (pipelining, odd framing) and a plain parse of what comes back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace intake::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpConnection {
 public:
  // Connects to host:port; throws std::runtime_error on failure.
  HttpConnection(const std::string& host, std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send_raw(std::string_view bytes);
  // Reads one response (Content-Length framed). Throws on timeout/close before a full response.
  HttpReply read_reply(int timeout_ms = 10'000);
  // True when the server closed the connection (reads EOF) within timeout_ms.
  bool closed_by_peer(int timeout_ms = 2'000);
  // Everything the peer sends until it closes (for plain TCP protocols). Throws on timeout.
  std::string read_until_close(int timeout_ms = 5'000);

  HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                    const std::vector<std::pair<std::string, std::string>>& headers = {}, int timeout_ms = 10'000);

 private:
  bool fill(int timeout_ms);
  int fd_ = -1;
  std::string host_;
  std::string buffer_;
};

// Builds the bytes of one request with Host and Content-Length.
std::string build_request(std::string_view method, std::string_view target, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view host = "127.0.0.1");

// One request on a fresh connection.
HttpReply http_request(const std::string& host, std::uint16_t port, std::string_view method, std::string_view target,
                       std::string_view body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {});

// What became of one request sent on a fresh connection, for tests of a listener that stops.
enum class RequestFate {
  kAnswered,  // a response header came back (status holds its code)
  kRefused,   // connect() failed with ECONNREFUSED: nothing listens on the port
  kReset,     // the connection was reset (ECONNRESET, EPIPE) before a response
  kClosed,    // the server closed the connection cleanly without a response
  kTimedOut,  // nothing within the timeout: connected, but nobody answers
};
struct RequestOutcome {
  RequestFate fate = RequestFate::kTimedOut;
  int status = 0;
};
const char* fate_name(RequestFate fate);

// Connects to host:port (IPv4), sends `request` and reads up to the end of one response
// header. Throws std::runtime_error on anything else (a bad address, another errno).
RequestOutcome try_request(const std::string& host, std::uint16_t port, std::string_view request,
                           int timeout_ms = 2'000);

// Splits "http://host:port" or "host:port" into its parts; throws on anything else.
std::pair<std::string, std::uint16_t> parse_host_port(std::string address);

// A TCP port that was free a moment ago on 127.0.0.1.
std::uint16_t free_port();

}  // namespace intake::testing
