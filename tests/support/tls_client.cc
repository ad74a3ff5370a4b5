#include "tls_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <stdexcept>

#include "http/tls_context.h"

namespace intake::testing {

struct TlsConnection::State {
  int fd = -1;
  SSL_CTX* context = nullptr;
  SSL* ssl = nullptr;
  std::string buffer;
  bool timed_out = false;  // the last fill() ended on the socket's timeout

  ~State() {
    if (ssl != nullptr) SSL_free(ssl);
    if (context != nullptr) SSL_CTX_free(context);
    if (fd >= 0) ::close(fd);
  }
  // False on EOF or error.
  bool fill() {
    char chunk[16 * 1024];
    errno = 0;
    const int read = SSL_read(ssl, chunk, sizeof chunk);
    if (read <= 0) {
      timed_out = SSL_get_error(ssl, read) == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
      return false;
    }
    buffer.append(chunk, static_cast<std::size_t>(read));
    return true;
  }
};

namespace {

std::string openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    text += std::string(text.empty() ? "" : "; ") + line;
  }
  return text;
}

void set_timeout(int fd, int timeout_ms) {
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

}  // namespace

TlsConnection::TlsConnection(const std::string& host, std::uint16_t port, const TlsClientOptions& options)
    : state_(std::make_unique<State>()) {
  ERR_clear_error();
  state_->fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  if (::connect(state_->fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
  }
  set_timeout(state_->fd, 10'000);
  state_->context = SSL_CTX_new(TLS_client_method());
  SSL_CTX* context = state_->context;
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(context, options.max_version);
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(context, options.min_version);
  if (options.max_version != 0 && options.max_version < TLS1_2_VERSION) SSL_CTX_set_security_level(context, 0);
  if (!options.ca_file.empty()) {
    SSL_CTX_load_verify_locations(context, options.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  }
  if (!options.cert_file.empty()) {
    SSL_CTX_use_certificate_chain_file(context, options.cert_file.c_str());
    SSL_CTX_use_PrivateKey_file(context, options.key_file.c_str(), SSL_FILETYPE_PEM);
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const auto& protocol : options.alpn) wire.append(1, static_cast<char>(protocol.size())).append(protocol);
    SSL_CTX_set_alpn_protos(context, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  state_->ssl = SSL_new(context);
  SSL_set_fd(state_->ssl, state_->fd);
  SSL_set1_host(state_->ssl, host.c_str());
  if (SSL_connect(state_->ssl) != 1) throw std::runtime_error("TLS handshake failed: " + openssl_errors());
  // TLS 1.3: a refused client certificate shows on the first read, not in SSL_connect.
}

TlsConnection::~TlsConnection() = default;

std::string TlsConnection::peer_sha256() const {
  X509* certificate = SSL_get0_peer_certificate(state_->ssl);
  return certificate == nullptr ? std::string() : http::certificate_sha256(certificate);
}

std::string TlsConnection::alpn() const {
  const unsigned char* chosen = nullptr;
  unsigned length = 0;
  SSL_get0_alpn_selected(state_->ssl, &chosen, &length);
  return std::string(reinterpret_cast<const char*>(chosen), length);
}

int TlsConnection::version() const { return SSL_version(state_->ssl); }

HttpReply TlsConnection::request(std::string_view method, std::string_view target, std::string_view body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string bytes = build_request(method, target, body, headers);
  if (SSL_write(state_->ssl, bytes.data(), static_cast<int>(bytes.size())) <= 0) {
    throw std::runtime_error("TLS write failed: " + openssl_errors());
  }
  std::string& buffer = state_->buffer;
  std::size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!state_->fill()) throw std::runtime_error("connection closed before a response header: " + openssl_errors());
  }
  HttpReply reply;
  const std::string head = buffer.substr(0, header_end);
  reply.status = std::stoi(head.substr(9, 3));
  for (std::size_t start = head.find("\r\n"); start != std::string::npos;) {
    start += 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (const auto colon = line.find(':'); colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
    }
    start = end;
  }
  buffer.erase(0, header_end + 4);
  const std::size_t length = reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
  while (buffer.size() < length) {
    if (!state_->fill()) throw std::runtime_error("connection closed in the middle of a body");
  }
  reply.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return reply;
}

bool TlsConnection::closed_by_peer(int timeout_ms) {
  set_timeout(state_->fd, timeout_ms);
  while (state_->fill()) {
  }
  return !state_->timed_out;
}

}  // namespace intake::testing
