#include "sources/consul_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <random>
#include <stdexcept>

namespace intake::sources {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

ConsulEndpoint parse_consul_address(const std::string& address, std::string token) {
  std::string rest = address;
  if (rest.rfind("http://", 0) == 0) rest.erase(0, 7);
  if (rest.rfind("https://", 0) == 0) throw std::invalid_argument("consul.address: https is not supported yet: " + address);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument("consul.address: expected http://HOST:PORT, got '" + address + "'");
  }
  ConsulEndpoint endpoint;
  endpoint.host = rest.substr(0, colon);
  unsigned port = 0;
  const std::string port_text = rest.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    throw std::invalid_argument("consul.address: bad port in '" + address + "'");
  }
  endpoint.port = static_cast<std::uint16_t>(port);
  endpoint.token = std::move(token);
  return endpoint;
}

// No co_await here has a temporary with a destructor in its operand (g++ 12 coroutine bug).
asio::awaitable<Result<HttpAnswer>> consul_get(const ConsulEndpoint& endpoint, std::string target,
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
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, endpoint.host);
  request.set(bhttp::field::user_agent, "intake");
  if (!endpoint.token.empty()) request.set("X-Consul-Token", endpoint.token);
  co_await bhttp::async_write(stream, request, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "sending to Consul failed: " + error.message()};

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1024ull * 1024 * 1024);  // a 100k-key tree is tens of MiB of base64
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
  if (error) co_return Error{ErrorCode::kInternal, "reading Consul's answer failed: " + error.message()};

  HttpAnswer answer;
  auto& response = parser.get();
  answer.status = static_cast<int>(response.result_int());
  if (auto it = response.find("X-Consul-Index"); it != response.end()) answer.consul_index = std::string(it->value());
  answer.body = std::move(response.body());
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
  co_return answer;
}

void WatchStats::count_snapshot(std::string revision) {
  snapshots_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  revision_ = std::move(revision);
}

SourceStats WatchStats::snapshot() const {
  SourceStats stats;
  stats.requests = requests_.load(std::memory_order_relaxed);
  stats.errors = errors_.load(std::memory_order_relaxed);
  stats.snapshots = snapshots_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats.revision = revision_;
  return stats;
}

std::chrono::milliseconds Backoff::next() {
  using std::chrono::milliseconds;
  base_ = std::clamp(base_ * 2, milliseconds(250), milliseconds(30'000));
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<long long> jitter(base_.count() / 2, base_.count());
  return milliseconds(jitter(random));
}

std::uint64_t next_index(std::uint64_t header_index) { return std::max<std::uint64_t>(header_index, 1); }

namespace {

bool parse_index(const std::string& text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

asio::awaitable<void> run_blocking_query(ConsulEndpoint endpoint, BlockingQuery query, WatchStats& stats,
                                         AnswerHandler on_answer, std::function<void(const std::string&)> on_error) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  beast::error_code ignored;
  const auto timeout = query.wait * 17 / 16 + std::chrono::seconds(5);
  const char separator = query.path.find('?') == std::string::npos ? '?' : '&';
  std::uint64_t index = 0;  // 0: the first request does not block and returns the current state
  Backoff backoff;
  for (;;) {
    std::string target = query.path;
    if (index > 0) {
      target += separator;
      target += "index=" + std::to_string(index) + "&wait=" + std::to_string(query.wait.count()) + "ms";
    }
    stats.count_request();
    Result<HttpAnswer> answer = co_await consul_get(endpoint, target, timeout);

    std::string failure;
    std::uint64_t header_index = 0;
    if (!answer) {
      failure = answer.error().message;
    } else if (answer->status != 200 && answer->status != 404) {
      // 404 on a KV prefix means "no keys": an empty tree, and it still blocks.
      failure = "Consul answered HTTP " + std::to_string(answer->status) + ": " + answer->body.substr(0, 200);
    } else if (!parse_index(answer->consul_index, header_index)) {
      failure = "Consul's answer has no valid X-Consul-Index header";
    } else {
      if (index == 0 || header_index != index) failure = on_answer(answer.value(), header_index);
      index = next_index(header_index);
    }
    if (failure.empty()) {
      backoff.reset();
      continue;
    }
    stats.count_error();
    const auto delay = backoff.next();
    on_error(failure + " (retrying in " + std::to_string(delay.count()) + " ms)");
    pause.expires_after(delay);
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

}  // namespace intake::sources
