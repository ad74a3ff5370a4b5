// RequestParser: Boost.Beast's HTTP/1.1 request parser driven directly over the connection's
// own buffer (docs/decisions/0008-http-parser.md): no fields container and no body string of
// Beast's, so a request costs no allocation. The library does the parsing — request line,
// field syntax, Content-Length and Transfer-Encoding rules, chunked framing — and this class
// only keeps the views it reports.
//
// One parser per connection, reset() between requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "error/result.h"
#include "http/request_head.h"

namespace intake::http {

class RequestParser {
 public:
  RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Ready for the next request on the connection.
  void reset();

  // Parses a request head at the start of `bytes`. Returns the bytes it took (the head's
  // length) once the head is complete, 0 while more bytes are needed; errors are 400 / 431.
  // On success `head` holds views into `bytes`.
  Result<std::size_t> parse_head(std::string_view bytes, RequestHead& head);

  // For a chunked body, after parse_head: decodes what `bytes` holds, appending the data to
  // `body`. Returns the bytes it took; body_done() once the last chunk and trailers are in.
  // A body over the limit is 413.
  Result<std::size_t> parse_chunked(std::string_view bytes, std::string& body);
  bool body_done() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;  // allocated once per connection
};

}  // namespace intake::http
