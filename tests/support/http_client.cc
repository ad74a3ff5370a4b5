#include "http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace intake::testing {

HttpConnection::HttpConnection(const std::string& host, std::uint16_t port) : host_(host) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + ": " + reason);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpConnection::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("send: " + std::string(std::strerror(errno)));
    }
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

bool HttpConnection::fill(int timeout_ms) {
  pollfd waiter{fd_, POLLIN, 0};
  const int ready = ::poll(&waiter, 1, timeout_ms);
  if (ready <= 0) throw std::runtime_error("timed out waiting for the server");
  char chunk[65536];
  const auto received = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (received <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(received));
  return true;
}

HttpReply HttpConnection::read_reply(int timeout_ms) {
  std::size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(timeout_ms)) throw std::runtime_error("connection closed before a response header");
  }
  HttpReply reply;
  const std::string head = buffer_.substr(0, header_end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
    throw std::runtime_error("bad status line: " + status_line);
  }
  reply.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos && line_end < head.size()) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    reply.headers[name] = value;
  }
  buffer_.erase(0, header_end + 4);
  // 1xx responses have no body and are followed by the real one.
  if (reply.status >= 100 && reply.status < 200) return reply;
  const std::size_t length = reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
  while (buffer_.size() < length) {
    if (!fill(timeout_ms)) throw std::runtime_error("connection closed in the middle of a body");
  }
  reply.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return reply;
}

bool HttpConnection::closed_by_peer(int timeout_ms) {
  try {
    while (fill(timeout_ms)) {
    }
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

std::string HttpConnection::read_until_close(int timeout_ms) {
  while (fill(timeout_ms)) {
  }
  std::string all = std::move(buffer_);
  buffer_.clear();
  return all;
}

HttpReply HttpConnection::request(std::string_view method, std::string_view target, std::string_view body,
                                  const std::vector<std::pair<std::string, std::string>>& headers, int timeout_ms) {
  send_raw(build_request(method, target, body, headers, host_));
  return read_reply(timeout_ms);
}

std::string build_request(std::string_view method, std::string_view target, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& headers, std::string_view host) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  for (const auto& [name, value] : headers) out.append(name).append(": ").append(value).append("\r\n");
  if (!body.empty() || method == "POST")
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("\r\n").append(body);
  return out;
}

HttpReply http_request(const std::string& host, std::uint16_t port, std::string_view method, std::string_view target,
                       std::string_view body, const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpConnection connection(host, port);
  return connection.request(method, target, body, headers);
}

const char* fate_name(RequestFate fate) {
  switch (fate) {
    case RequestFate::kAnswered:
      return "answered";
    case RequestFate::kRefused:
      return "refused";
    case RequestFate::kReset:
      return "reset";
    case RequestFate::kClosed:
      return "closed";
    case RequestFate::kTimedOut:
      return "timed out";
  }
  return "?";
}

RequestOutcome try_request(const std::string& host, std::uint16_t port, std::string_view request, int timeout_ms) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  const auto unexpected = [&](const char* call) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return std::runtime_error(std::string(call) + " to " + host + ":" + std::to_string(port) + ": " + reason);
  };
  const auto done = [&](RequestFate fate, int status = 0) {
    ::close(fd);
    return RequestOutcome{fate, status};
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == ECONNREFUSED) return done(RequestFate::kRefused);
    // A listener closed while this connection waited in its accept queue.
    if (errno == ECONNRESET) return done(RequestFate::kReset);
    throw unexpected("connect");
  }
  while (!request.empty()) {
    const auto sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == ECONNRESET || errno == EPIPE)) return done(RequestFate::kReset);
    if (sent < 0) throw unexpected("send");
    request.remove_prefix(static_cast<std::size_t>(sent));
  }
  std::string received;
  while (received.find("\r\n\r\n") == std::string::npos) {
    pollfd waiter{fd, POLLIN, 0};
    const int ready = ::poll(&waiter, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw unexpected("poll");
    if (ready == 0) return done(RequestFate::kTimedOut);
    char chunk[4096];
    const auto got = ::recv(fd, chunk, sizeof(chunk), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == ECONNRESET) return done(RequestFate::kReset);
    if (got < 0) throw unexpected("recv");
    if (got == 0) return done(RequestFate::kClosed);
    received.append(chunk, static_cast<std::size_t>(got));
  }
  if (received.size() < 12 || received.compare(0, 5, "HTTP/") != 0) {
    ::close(fd);
    throw std::runtime_error("bad status line from " + host + ":" + std::to_string(port) + ": " +
                             received.substr(0, 40));
  }
  return done(RequestFate::kAnswered, std::stoi(received.substr(9, 3)));
}

std::pair<std::string, std::uint16_t> parse_host_port(std::string address) {
  if (address.rfind("http://", 0) == 0) address.erase(0, 7);
  while (!address.empty() && address.back() == '/') address.pop_back();
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("expected host:port, got " + address);
  return {address.substr(0, colon), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace intake::testing
