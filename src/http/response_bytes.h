// How a Response becomes bytes on the wire: a status line from a table built once, the few
// headers Intake sends, the body — appended to the connection's output buffer, so pipelined
// answers leave in one send.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace intake::http {

struct Framing {
  int version = 11;  // the request's: 10 or 11
  bool keep_alive = true;
  bool head_request = false;  // HEAD: the GET answer's Content-Length, no body
};

void append_response(std::string& out, const Response& response, Framing framing);

// The head of a `200` answer whose body follows in chunks (a streaming request's).
void append_stream_head(std::string& out, std::string_view content_type, bool keep_alive);
// One chunk carrying `part` (nothing for an empty part: an empty chunk would end the body).
void append_chunk(std::string& out, std::string_view part);
// The chunk that ends a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The interim answer to `Expect: 100-continue`.
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace intake::http
