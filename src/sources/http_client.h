// A small HTTP/1.1 client for registry sources (Consul, etcd): one request per connection,
// a deadline for the whole exchange, errors as values. Runs on the caller's io_context, so
// stopping that context abandons the request at once. Internal to sources/.
//
// Two calls: http_call reads a whole answer; http_stream reads an answer whose body is an
// endless sequence of JSON texts (etcd's /v3/watch) and hands each one over as it arrives.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "error/result.h"
#include "sources/http_answer.h"

namespace intake::sources {

struct HttpEndpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 80;
};

// Parses "http://host:port" (or "host:port"); `field` names the setting in the message.
// Throws std::invalid_argument (start-up only).
HttpEndpoint parse_http_address(const std::string& address, const std::string& field);

struct HttpCall {
  std::string method = "GET";
  std::string target;  // path and query
  std::string body;
  HttpHeaders headers;
};

boost::asio::awaitable<Result<HttpAnswer>> http_call(const HttpEndpoint& endpoint, const HttpCall& call,
                                                     std::chrono::milliseconds timeout);

// Called with each complete JSON text of a streamed body; returns false to end the exchange.
using JsonTextHandler = std::function<bool(std::string_view json_text)>;

// Sends `call` and, for a 2xx answer, reads its body incrementally, handing every complete JSON
// text (object or array) in it to `on_text` in order, whatever the chunking. `timeout` bounds
// connecting, sending and the answer's header; after that each read may wait `idle_timeout`
// (zero: forever). Returns the status and headers once the body ends or `on_text` returned
// false; a non-2xx answer is read whole (up to 64 KiB) into `body` and not handed over. A body
// that is not a sequence of JSON texts, a dropped connection or a timeout is an Error.
boost::asio::awaitable<Result<HttpAnswer>> http_stream(const HttpEndpoint& endpoint, const HttpCall& call,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds idle_timeout,
                                                       const JsonTextHandler& on_text);

// Splits a byte stream into complete JSON texts: tracks nesting and strings, not full syntax
// (each text is parsed by its receiver). Whitespace between texts is skipped; any other byte
// outside a text is a framing error. Exposed for tests.
class JsonTextSplitter {
 public:
  enum class Status { kMore, kStopped, kMalformed };

  explicit JsonTextSplitter(std::size_t max_text_bytes = std::size_t{256} * 1024 * 1024)
      : max_text_bytes_(max_text_bytes) {}

  // Appends `bytes` and hands every text completed by them to `on_text`. kStopped: on_text
  // returned false (the rest is not looked at); kMalformed: framing error or a text over the
  // limit; kMore: all complete texts were handed over.
  Status feed(std::string_view bytes, const JsonTextHandler& on_text);

 private:
  std::size_t max_text_bytes_;
  std::string pending_;      // bytes not yet handed over; a text, when started, begins at 0
  std::size_t scanned_ = 0;  // bytes of pending_ already looked at
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace intake::sources
