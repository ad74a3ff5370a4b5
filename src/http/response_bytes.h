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

// The interim answer to `Expect: 100-continue`.
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace intake::http
