// A small HTTP/1.1 client for registry sources (Consul, etcd): one request per connection,
// a deadline for the whole exchange, errors as values. Runs on the caller's io_context, so
// stopping that context abandons the request at once. Internal to sources/.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "error/result.h"

namespace intake::sources {

struct HttpEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 80;
};

// Parses "http://host:port" (or "host:port"); `field` names the setting in the message.
// Throws std::invalid_argument (start-up only).
HttpEndpoint parse_http_address(const std::string& address, const std::string& field);

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpCall {
  std::string method = "GET";
  std::string target;  // path and query
  std::string body;
  HttpHeaders headers;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
  HttpHeaders headers;
  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

boost::asio::awaitable<Result<HttpAnswer>> http_call(const HttpEndpoint& endpoint, const HttpCall& call,
                                                     std::chrono::milliseconds timeout);

}  // namespace intake::sources
