#include "http/response_bytes.h"

#include <array>
#include <charconv>

namespace intake::http {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 207:
      return "Multi-Status";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

// "HTTP/1.1 202 Accepted\r\nServer: intake\r\n" for every status, made once.
struct StatusLines {
  std::array<std::string, 600> lines;
  StatusLines() {
    for (int status = 100; status < 600; ++status) {
      lines[status] =
          "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\nServer: intake\r\n";
    }
  }
};

const std::string& status_line(int status) {
  static const StatusLines table;
  if (status < 100 || status >= 600) status = 500;
  return table.lines[status];
}

void append_number(std::string& out, std::size_t value) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end);
}

}  // namespace

void append_response(std::string& out, const Response& response, Framing framing) {
  out.append(status_line(response.status));
  out.append("Content-Type: ").append(response.content_type).append("\r\n");
  if (!response.allow.empty()) out.append("Allow: ").append(response.allow).append("\r\n");
  if (response.retry_after_s > 0) {
    out.append("Retry-After: ");
    append_number(out, response.retry_after_s);
    out.append("\r\n");
  }
  const bool keep_alive = framing.keep_alive && !response.close_connection;
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (framing.version == 10) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("Content-Length: ");
  append_number(out, response.body.size());
  out.append("\r\n\r\n");
  if (!framing.head_request) out.append(response.body);
}

void append_stream_head(std::string& out, std::string_view content_type, bool keep_alive) {
  out.append(status_line(200));
  out.append("Content-Type: ").append(content_type).append("\r\n");
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("Transfer-Encoding: chunked\r\n\r\n");
}

void append_chunk(std::string& out, std::string_view part) {
  if (part.empty()) return;
  std::array<char, 16> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), part.size(), 16);
  out.append(digits.data(), end).append("\r\n").append(part).append("\r\n");
}

}  // namespace intake::http
