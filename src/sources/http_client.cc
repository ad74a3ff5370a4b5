#include "sources/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <limits>
#include <stdexcept>
#include <vector>

namespace intake::sources {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

HttpEndpoint parse_http_address(const std::string& address, const std::string& field) {
  std::string rest = address;
  if (rest.rfind("https://", 0) == 0) throw std::invalid_argument(field + ": https is not supported yet: " + address);
  if (rest.rfind("http://", 0) == 0) rest.erase(0, 7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument(field + ": expected http://HOST:PORT, got '" + address + "'");
  }
  HttpEndpoint endpoint;
  endpoint.host = rest.substr(0, colon);
  unsigned port = 0;
  const std::string port_text = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    throw std::invalid_argument(field + ": bad port in '" + address + "'");
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  return endpoint;
}

namespace {

bool is_json_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Resolves, connects and sends `call`; the stream's deadline is `timeout` from now on, for
// the caller's reads too.
asio::awaitable<Result<void>> send_request(beast::tcp_stream& stream, const HttpEndpoint& endpoint,
                                           const HttpCall& call, std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code error;
  tcp::resolver resolver(executor);
  const std::string port = std::to_string(endpoint.port);
  auto addresses =
      co_await resolver.async_resolve(endpoint.host, port, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "cannot resolve " + endpoint.host + ": " + error.message()};

  stream.expires_after(timeout);
  co_await stream.async_connect(addresses, asio::redirect_error(asio::use_awaitable, error));
  if (error)
    co_return Error{ErrorCode::kInternal, "cannot connect to " + endpoint.host + ":" + port + ": " + error.message()};
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(call.method), call.target, 11};
  request.set(bhttp::field::host, endpoint.host);
  request.set(bhttp::field::user_agent, "intake");
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (!call.body.empty() || call.method != "GET") {
    request.body() = call.body;
    request.prepare_payload();
  }
  co_await bhttp::async_write(stream, request, asio::redirect_error(asio::use_awaitable, error));
  if (error)
    co_return Error{ErrorCode::kInternal, "sending to " + endpoint.host + ":" + port + " failed: " + error.message()};
  co_return Result<void>();
}

template <typename Fields>
void copy_headers(const Fields& fields, HttpHeaders& out) {
  for (const auto& field : fields) out.emplace_back(std::string(field.name_string()), std::string(field.value()));
}

}  // namespace

// No co_await here has a temporary with a destructor in its operand (g++ 12 coroutine bug).
asio::awaitable<Result<HttpAnswer>> http_call(const HttpEndpoint& endpoint, const HttpCall& call,
                                              std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  Result<void> sent = co_await send_request(stream, endpoint, call, timeout);
  if (!sent) co_return std::move(sent).error();
  const std::string port = std::to_string(endpoint.port);
  beast::error_code error;

  // Beast reads at most the buffer's free capacity per call: without a reserve that is 512
  // bytes, which made a 34 MB Consul answer cost 65k reads (bench/results/config_propagation.md).
  beast::flat_buffer buffer;
  buffer.reserve(256 * 1024);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024ull * 1024 * 1024);  // a 100k-key tree is tens of MiB
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
  if (error)
    co_return Error{ErrorCode::kInternal,
                    "reading the answer of " + endpoint.host + ":" + port + " failed: " + error.message()};

  HttpAnswer answer;
  auto& response = parser.get();
  answer.status = static_cast<int>(response.result_int());
  copy_headers(response, answer.headers);
  answer.body = std::move(response.body());
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
  co_return answer;
}

// Same rule as http_call: no temporaries with destructors inside a co_await operand.
asio::awaitable<Result<HttpAnswer>> http_stream(const HttpEndpoint& endpoint, const HttpCall& call,
                                                std::chrono::milliseconds timeout,
                                                std::chrono::milliseconds idle_timeout,
                                                const JsonTextHandler& on_text) {
  constexpr std::size_t kMaxErrorBody = 64 * 1024;
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream stream(executor);
  Result<void> sent = co_await send_request(stream, endpoint, call, timeout);
  if (!sent) co_return std::move(sent).error();
  const std::string peer = endpoint.host + ":" + std::to_string(endpoint.port);
  beast::error_code error;

  beast::flat_buffer buffer;
  buffer.reserve(64 * 1024);
  bhttp::response_parser<bhttp::buffer_body> parser;
  // The body of a watch never ends. Not boost::none: Beast 1.74 compares a Content-Length
  // against an unset limit as "exceeded" (len_ > body_limit_ with an empty optional).
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "reading the answer of " + peer + " failed: " + error.message()};

  HttpAnswer answer;
  answer.status = static_cast<int>(parser.get().result_int());
  copy_headers(parser.get(), answer.headers);
  const bool streaming = answer.status / 100 == 2;

  std::vector<char> chunk(64 * 1024);
  JsonTextSplitter splitter;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    if (idle_timeout.count() > 0) {
      stream.expires_after(idle_timeout);
    } else {
      stream.expires_never();
    }
    co_await bhttp::async_read_some(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error == bhttp::error::need_buffer) error = {};  // the chunk buffer is full: hand it over
    if (error) co_return Error{ErrorCode::kInternal, "reading the stream of " + peer + " failed: " + error.message()};
    const std::string_view bytes(chunk.data(), chunk.size() - parser.get().body().size);
    if (!streaming) {
      answer.body.append(bytes.substr(0, kMaxErrorBody - answer.body.size()));
      if (answer.body.size() >= kMaxErrorBody) break;
      continue;
    }
    const auto status = splitter.feed(bytes, on_text);
    if (status == JsonTextSplitter::Status::kStopped) break;
    if (status == JsonTextSplitter::Status::kMalformed) {
      co_return Error{ErrorCode::kInternal, "the stream of " + peer + " is not a sequence of JSON texts"};
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
  co_return answer;
}

JsonTextSplitter::Status JsonTextSplitter::feed(std::string_view bytes, const JsonTextHandler& on_text) {
  pending_.append(bytes);
  std::size_t start = 0;  // where the text being scanned (or the gap before it) begins
  std::size_t at = scanned_;
  Status status = Status::kMore;
  while (at < pending_.size()) {
    const char c = pending_[at++];
    if (depth_ == 0) {
      if (is_json_space(c)) {
        start = at;
        continue;
      }
      if (c != '{' && c != '[') {
        status = Status::kMalformed;
        break;
      }
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      --depth_;
    }
    if (depth_ == 0) {
      const bool go_on = on_text(std::string_view(pending_).substr(start, at - start));
      start = at;
      if (!go_on) {
        status = Status::kStopped;
        break;
      }
    }
  }
  if (status != Status::kMore) {
    *this = JsonTextSplitter(max_text_bytes_);
    return status;
  }
  pending_.erase(0, start);
  scanned_ = at - start;
  if (pending_.size() > max_text_bytes_) {
    *this = JsonTextSplitter(max_text_bytes_);
    return Status::kMalformed;
  }
  return Status::kMore;
}

}  // namespace intake::sources
