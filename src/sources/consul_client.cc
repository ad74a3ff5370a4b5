#include "sources/consul_client.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <charconv>

namespace intake::sources {

namespace asio = boost::asio;

ConsulEndpoint parse_consul_address(const std::string& address, std::string token) {
  ConsulEndpoint endpoint;
  endpoint.http = parse_http_address(address, "config.consul.address");
  endpoint.token = std::move(token);
  return endpoint;
}

std::uint64_t next_index(std::uint64_t header_index) { return std::max<std::uint64_t>(header_index, 1); }

std::uint64_t index_after_unusable_answer(std::uint64_t sent, std::uint64_t header_index) {
  return header_index < sent ? 0 : sent;
}

namespace {

bool parse_index(std::string_view text, std::uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

asio::awaitable<void> run_blocking_query(ConsulEndpoint endpoint, BlockingQuery query, WatchStats& stats,
                                         AnswerHandler on_answer, std::function<void(const std::string&)> on_error) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  boost::system::error_code ignored;
  const auto timeout = query.wait * 17 / 16 + std::chrono::seconds(5);
  const char separator = query.path.find('?') == std::string::npos ? '?' : '&';
  HttpCall call;
  if (!endpoint.token.empty()) call.headers.emplace_back("X-Consul-Token", endpoint.token);
  if (!endpoint.transport) {
    endpoint.transport = [http = endpoint.http](const HttpCall& request, std::chrono::milliseconds limit) {
      return http_call(http, request, limit);
    };
  }
  std::uint64_t index = 0;  // 0: the first request does not block and returns the current state
  Backoff backoff;
  for (;;) {
    call.target = query.path;
    if (index > 0) {
      call.target += separator;
      call.target += "index=" + std::to_string(index) + "&wait=" + std::to_string(query.wait.count()) + "ms";
    }
    stats.count_request();
    Result<HttpAnswer> answer = co_await endpoint.transport(call, timeout);

    std::string failure;
    std::uint64_t header_index = 0;
    if (!answer) {
      failure = answer.error().message;
    } else if (answer->status != 200 && answer->status != 404) {
      // 404 on a KV prefix means "no keys": an empty tree, and it still blocks.
      failure = "Consul answered HTTP " + std::to_string(answer->status) + ": " + answer->body.substr(0, 200);
    } else if (!parse_index(answer->header("X-Consul-Index"), header_index)) {
      failure = "Consul's answer has no valid X-Consul-Index header";
    } else {
      if (index == 0 || header_index != index) {
        if (auto handled = on_answer(answer.value(), header_index); !handled)
          failure = std::move(handled).error().message;
      }
      // An answer that could not be used keeps the index it was asked with: moving on would
      // block until the next change and never show us this content again.
      index = failure.empty() ? next_index(header_index) : index_after_unusable_answer(index, header_index);
    }
    if (failure.empty()) {
      backoff.reset();
      continue;
    }
    stats.count_error();
    // The agent may have restarted with other data; a blocking query with our old index would
    // then wait a whole `wait` for an index it may never reach. Re-read without one first.
    if (!answer) index = 0;
    const auto delay = backoff.next();
    on_error(failure + " (retrying in " + std::to_string(delay.count()) + " ms)");
    pause.expires_after(delay);
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

}  // namespace intake::sources
