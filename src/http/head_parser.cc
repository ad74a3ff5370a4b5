// One of two translation units that include Boost.Beast (keeps compile times sane).
#include "http/head_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "http/router.h"

namespace intake::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// Keeps what Beast reports in a RequestHead and appends chunk data to a string; Beast calls
// these while put() runs. Field views point into the bytes given to put() (or, for a folded
// line, into the parser's own buffer), both valid until the next reset().
class BeastRequestParser final : public bhttp::basic_parser<true> {
 public:
  RequestHead* head = nullptr;
  std::string* body = nullptr;
  std::string_view input;  // what put() was given: field views must point into it
  bool too_many_fields = false;
  bool folded_field = false;
  bool transfer_encoding = false;

 private:
  void on_request_impl(bhttp::verb /*method*/, beast::string_view method_text, beast::string_view target, int version,
                       beast::error_code& /*ec*/) override {
    head->method = http::parse_method(view(method_text));
    head->target = view(target);
    head->version = version;
  }
  void on_response_impl(int /*code*/, beast::string_view /*reason*/, int /*version*/,
                        beast::error_code& /*ec*/) override {}
  void on_field_impl(bhttp::field name, beast::string_view name_text, beast::string_view value,
                     beast::error_code& ec) override {
    // Trailers come through here too; none of them may act as a header (an Authorization
    // in a trailer must not authenticate), so they are dropped.
    if (is_header_done()) return;
    // Beast unfolds an obs-fold line into a buffer that dies with this call; RFC 9112 lets a
    // server refuse folding, and no client of a produce API needs it.
    if (!value.empty() && (value.data() < input.data() || value.data() + value.size() > input.data() + input.size())) {
      folded_field = true;
      ec = bhttp::error::bad_value;
      return;
    }
    if (name == bhttp::field::transfer_encoding) transfer_encoding = true;
    if (head->field_count == head->fields.size()) {
      too_many_fields = true;
      ec = bhttp::error::header_limit;
      return;
    }
    head->fields[head->field_count++] = {view(name_text), view(value)};
    if (name == bhttp::field::expect && beast::iequals(value, "100-continue")) head->expect_continue = true;
  }
  void on_header_impl(beast::error_code& /*ec*/) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& /*content_length*/, beast::error_code& /*ec*/) override {
  }
  std::size_t on_body_impl(beast::string_view data, beast::error_code& /*ec*/) override {
    if (body != nullptr) body->append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t /*size*/, beast::string_view /*extensions*/,
                            beast::error_code& /*ec*/) override {}
  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, beast::string_view data,
                                 beast::error_code& /*ec*/) override {
    if (body != nullptr) body->append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(beast::error_code& /*ec*/) override {}
};

}  // namespace

class RequestParser::Impl {
 public:
  Impl(std::size_t max_header_bytes, std::uint64_t max_body_bytes)
      : max_header_bytes_(max_header_bytes), max_body_bytes_(max_body_bytes) {
    reset();
  }
  void reset() {
    scanned_ = 0;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(max_header_bytes_));
    parser_->body_limit(max_body_bytes_);
  }
  BeastRequestParser& parser() { return *parser_; }

  // One past the blank line that ends the head at the start of `bytes`, or 0. Resumes where the
  // last call stopped, so a head that trickles in is scanned once, not once per read.
  std::size_t find_head_end(std::string_view bytes) {
    const std::size_t limit = std::min(bytes.size(), max_header_bytes_ + 4);
    for (std::size_t i = scanned_; i < limit; ++i) {
      const void* newline = std::memchr(bytes.data() + i, '\n', limit - i);
      if (newline == nullptr) break;
      i = static_cast<std::size_t>(static_cast<const char*>(newline) - bytes.data());
      if (i + 1 < limit && bytes[i + 1] == '\n') return i + 2;
      if (i + 2 < limit && bytes[i + 1] == '\r' && bytes[i + 2] == '\n') return i + 3;
      if (i + 2 >= limit) {
        scanned_ = i;  // the blank line may begin here once more bytes come
        return 0;
      }
    }
    scanned_ = limit;
    return 0;
  }
  std::size_t max_header_bytes() const { return max_header_bytes_; }
  std::uint64_t max_body_bytes() const { return max_body_bytes_; }

 private:
  std::size_t max_header_bytes_;
  std::uint64_t max_body_bytes_;
  std::optional<BeastRequestParser> parser_;  // re-made in place: Beast's parser has no reset
  std::size_t scanned_ = 0;                   // bytes of the coming head searched for its end
};

RequestParser::RequestParser(std::size_t max_header_bytes, std::uint64_t max_body_bytes)
    : impl_(std::make_unique<Impl>(max_header_bytes, max_body_bytes)) {}

RequestParser::~RequestParser() = default;

void RequestParser::reset() { impl_->reset(); }

Result<std::size_t> RequestParser::parse_head(std::string_view bytes, RequestHead& head) {
  auto& parser = impl_->parser();
  // Beast parses the request line and each complete field as soon as it has them, even before
  // the head's end has arrived, and keeps its place: views from such a partial parse would die
  // when the connection moves its buffer. So Beast sees a head only once it is all there (a
  // blank line: CRLF CRLF, or a bare LF one, which Beast then refuses).
  const std::size_t end = impl_->find_head_end(bytes);
  if (end == 0) {
    if (bytes.size() > impl_->max_header_bytes()) {
      return Error{ErrorCode::kRequestHeaderTooLarge, "request headers exceed " +
                                                          std::to_string(impl_->max_header_bytes()) +
                                                          " bytes; send fewer or shorter headers"};
    }
    return std::size_t{0};
  }
  head = RequestHead{};
  parser.head = &head;
  parser.input = bytes.substr(0, end);
  beast::error_code error;
  std::size_t used = 0;
  while (!error && !parser.is_header_done() && used < end) {
    used += parser.put(boost::asio::const_buffer(bytes.data() + used, end - used), error);
  }
  if (error == bhttp::error::need_more || (!error && !parser.is_header_done())) {
    error = bhttp::error::bad_line_ending;  // the blank line was there: Beast wanted more than a head
  }
  if (error == bhttp::error::header_limit) {
    if (parser.too_many_fields) {
      return Error{ErrorCode::kRequestHeaderTooLarge,
                   "more than " + std::to_string(kMaxHeaderFields) + " header fields; send fewer headers"};
    }
    return Error{ErrorCode::kRequestHeaderTooLarge, "request headers exceed " +
                                                        std::to_string(impl_->max_header_bytes()) +
                                                        " bytes; send fewer or shorter headers"};
  }
  if (error == bhttp::error::body_limit) {
    // Beast compares Content-Length with the limit as it reads the field, before the head is done.
    const std::string_view declared = HeadFields(head).find("Content-Length");
    const std::string size =
        declared.empty() ? std::string("the body is too large") : "the body has " + std::string(declared) + " bytes";
    return Error{ErrorCode::kPayloadTooLarge,
                 size + "; the limit is " + std::to_string(impl_->max_body_bytes()) + " bytes (server.max_body_bytes)"};
  }
  if (parser.folded_field) {
    return Error{ErrorCode::kBadRequest, "a header value is folded over several lines (obs-fold); send it on one line"};
  }
  if (error) return Error{ErrorCode::kBadRequest, "malformed HTTP request: " + error.message()};
  // Beast 1.74 takes a Transfer-Encoding whose last coding is not chunked, and chunked in
  // HTTP/1.0, as framing by Content-Length — a request-smuggling gap between Intake and any
  // proxy in front of it. Only chunked in HTTP/1.1 is accepted.
  if (parser.transfer_encoding && (!parser.chunked() || head.version < 11)) {
    return Error{ErrorCode::kBadRequest,
                 "Transfer-Encoding must be exactly chunked, over HTTP/1.1; send the body with Content-Length"};
  }
  head.keep_alive = parser.keep_alive();
  head.chunked = parser.chunked();
  if (auto length = parser.content_length()) head.content_length = *length;
  // Beast before 1.76 could skip its own check in some orders of events; this one cannot be.
  if (head.content_length.value_or(0) > impl_->max_body_bytes()) {
    return Error{ErrorCode::kPayloadTooLarge, "the body has " + std::to_string(*head.content_length) +
                                                  " bytes; the limit is " + std::to_string(impl_->max_body_bytes()) +
                                                  " bytes (server.max_body_bytes)"};
  }
  return used;
}

Result<std::size_t> RequestParser::parse_chunked(std::string_view bytes, std::string& body) {
  auto& parser = impl_->parser();
  parser.body = &body;
  std::size_t taken = 0;
  while (!parser.is_done() && taken < bytes.size()) {
    beast::error_code error;
    const std::size_t used = parser.put(boost::asio::const_buffer(bytes.data() + taken, bytes.size() - taken), error);
    taken += used;
    if (error == bhttp::error::need_more) break;
    if (error == bhttp::error::body_limit) {
      return Error{ErrorCode::kPayloadTooLarge, "the body is larger than " + std::to_string(impl_->max_body_bytes()) +
                                                    " bytes (server.max_body_bytes)"};
    }
    if (error) return Error{ErrorCode::kBadRequest, "malformed chunked body: " + error.message()};
    if (used == 0) break;
  }
  parser.body = nullptr;
  return taken;
}

bool RequestParser::body_done() const { return impl_->parser().is_done(); }

}  // namespace intake::http
