// Kafka broker addresses, the one rule for every way a broker reaches Intake (registry
// `brokers/<host:port>` keys, Consul health instances). The set ends up joined with ',' into
// librdkafka's bootstrap list, so a host holding a ',' or whitespace would smuggle in brokers
// nobody registered: only these forms pass.
//
//   host:port     host a DNS name or IPv4 address: letters, digits, '.', '-', '_'
//   [ipv6]:port   an IPv6 literal, always in brackets (librdkafka's form)
//   port          1..65535
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intake::names {

// True iff `host` is a non-empty DNS name or IPv4 address of A-Z a-z 0-9 . - _ only.
inline bool is_broker_host_name(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// True iff `host` is an IPv6 literal without brackets, e.g. "::1" (no zone id).
inline bool is_ipv6_literal(std::string_view host) {
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return false;
  in6_addr parsed{};
  return ::inet_pton(AF_INET6, std::string(host).c_str(), &parsed) == 1;
}

// The broker address of `host` (a host name, or an IPv6 literal bare or in brackets) and
// `port`, with an IPv6 literal in brackets: ("::1", 9092) -> "[::1]:9092". nullopt when the
// host is neither or the port is not 1..65535.
inline std::optional<std::string> make_broker_address(std::string_view host, std::uint64_t port) {
  if (port < 1 || port > 65535) return std::nullopt;
  const std::string suffix = ":" + std::to_string(port);
  if (is_broker_host_name(host)) return std::string(host) + suffix;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (is_ipv6_literal(host)) return "[" + std::string(host) + "]" + suffix;
  return std::nullopt;
}

// True iff `text` is one broker address in the forms above ("kafka-1:9092", "[::1]:9092").
inline bool is_broker_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return false;
  unsigned port = 0;
  const auto* port_end = text.data() + text.size();
  auto [end, ec] = std::from_chars(text.data() + colon + 1, port_end, port);
  if (ec != std::errc() || end != port_end || port < 1 || port > 65535) return false;
  const std::string_view host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return is_ipv6_literal(host.substr(1, host.size() - 2));
  return is_broker_host_name(host);
}

}  // namespace intake::names
