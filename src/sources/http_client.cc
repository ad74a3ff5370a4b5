#include "sources/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <stdexcept>

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

std::string_view HttpAnswer::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name)) return value;
  }
  return {};
}

// No co_await here has a temporary with a destructor in its operand (g++ 12 coroutine bug).
asio::awaitable<Result<HttpAnswer>> http_call(const HttpEndpoint& endpoint, const HttpCall& call,
                                              std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code error;
  tcp::resolver resolver(executor);
  const std::string port = std::to_string(endpoint.port);
  auto addresses = co_await resolver.async_resolve(endpoint.host, port, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "cannot resolve " + endpoint.host + ": " + error.message()};

  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(addresses, asio::redirect_error(asio::use_awaitable, error));
  if (error) {
    co_return Error{ErrorCode::kInternal, "cannot connect to " + endpoint.host + ":" + port + ": " + error.message()};
  }
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(call.method), call.target, 11};
  request.set(bhttp::field::host, endpoint.host);
  request.set(bhttp::field::user_agent, "intake");
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (!call.body.empty() || call.method != "GET") {
    request.body() = call.body;
    request.prepare_payload();
  }
  co_await bhttp::async_write(stream, request, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "sending to " + endpoint.host + ":" + port + " failed: " + error.message()};

  // Beast reads at most the buffer's free capacity per call: without a reserve that is 512
  // bytes, which made a 34 MB Consul answer cost 65k reads (bench/results/config_propagation.md).
  beast::flat_buffer buffer;
  buffer.reserve(256 * 1024);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024ull * 1024 * 1024);  // a 100k-key tree is tens of MiB
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "reading the answer of " + endpoint.host + ":" + port + " failed: " + error.message()};

  HttpAnswer answer;
  auto& response = parser.get();
  answer.status = static_cast<int>(response.result_int());
  for (const auto& field : response) answer.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  answer.body = std::move(response.body());
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
  co_return answer;
}

}  // namespace intake::sources
