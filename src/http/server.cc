// The only translation unit that includes Boost.Beast: keeps compile times sane.
#include "http/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>

namespace intake::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;

namespace {

class BeastHeaders final : public HeaderSource {
 public:
  explicit BeastHeaders(const BeastRequest& request) : request_(request) {}
  std::string_view find(std::string_view name) const override {
    auto it = request_.find(beast::string_view(name.data(), name.size()));
    if (it == request_.end()) return {};
    auto value = it->value();
    return {value.data(), value.size()};
  }

 private:
  const BeastRequest& request_;
};

Request to_request(const BeastRequest& beast_request, const BeastHeaders& headers) {
  Request request;
  auto method = beast_request.method_string();
  request.method = parse_method({method.data(), method.size()});
  auto target = beast_request.target();
  std::string_view target_view(target.data(), target.size());
  const auto question = target_view.find('?');
  request.path = target_view.substr(0, question);
  if (question != std::string_view::npos) request.query = target_view.substr(question + 1);
  request.body = beast_request.body();
  request.headers = &headers;
  return request;
}

bhttp::response<bhttp::string_body> to_beast(Response&& response, unsigned version, bool keep_alive,
                                             bool head_request) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), version};
  out.set(bhttp::field::server, "intake");
  out.set(bhttp::field::content_type, beast::string_view(response.content_type.data(), response.content_type.size()));
  if (!response.allow.empty()) {
    out.set(bhttp::field::allow, beast::string_view(response.allow.data(), response.allow.size()));
  }
  if (response.retry_after_s > 0) out.set(bhttp::field::retry_after, std::to_string(response.retry_after_s));
  out.keep_alive(keep_alive && !response.close_connection);
  out.body() = std::move(response.body);
  out.prepare_payload();
  if (head_request) out.body().clear();  // keeps Content-Length of the GET answer, sends no body
  return out;
}

// `content_length` 0 = unknown (chunked body that grew past the limit).
Error too_large(std::uint64_t content_length, std::size_t limit) {
  std::string message = content_length > 0 ? "the body has " + std::to_string(content_length) + " bytes"
                                           : std::string("the body is too large");
  message += "; the limit is " + std::to_string(limit) + " bytes (server.max_body_bytes)";
  return Error{ErrorCode::kPayloadTooLarge, std::move(message)};
}

// Read errors that just mean the client went away or idled out: close without an answer.
bool is_quiet_close(const beast::error_code& error) {
  return error == bhttp::error::end_of_stream || error == beast::error::timeout || error == asio::error::eof ||
         error == asio::error::connection_reset || error == asio::error::operation_aborted ||
         error == asio::error::broken_pipe;
}

// What a failed header read should be answered with, if anything.
std::optional<Error> header_failure(const beast::error_code& error, std::uint64_t content_length,
                                    const beast::flat_buffer& buffer, const http::ServerOptions& settings) {
  if (error == bhttp::error::header_limit) {
    return Error{ErrorCode::kRequestHeaderTooLarge, "request headers exceed " +
                                                        std::to_string(settings.max_header_bytes) +
                                                        " bytes; send fewer or shorter headers"};
  }
  // Beast compares Content-Length with body_limit as soon as the header is complete.
  if (error == bhttp::error::body_limit) return too_large(content_length, settings.max_body_bytes);
  if (is_quiet_close(error) || buffer.size() == 0) return std::nullopt;
  return Error{ErrorCode::kBadRequest, "malformed HTTP request: " + error.message()};
}

// Waits for a deferred response (sync delivery) without blocking the thread: a timer set to
// the deadline is cancelled by the completing thread through the connection's executor. The
// timer is shared with that callback, so a completion racing the deadline touches no freed
// memory.
asio::awaitable<Response> await_deferred(Response pending) {
  auto executor = co_await asio::this_coro::executor;
  auto deferred = pending.deferred;
  auto wake = std::make_shared<asio::steady_timer>(executor);
  wake->expires_after(std::chrono::milliseconds(pending.deferred_timeout_ms));
  const bool ready = deferred->set_waker([executor, wake] { asio::post(executor, [wake] { wake->cancel(); }); });
  if (!ready) {
    beast::error_code ignored;
    co_await wake->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  deferred->set_waker({});
  if (auto response = deferred->take()) co_return std::move(*response);
  co_return error_response(Error{ErrorCode::kDeliveryTimeout,
                                 "Kafka did not confirm the record within " +
                                     std::to_string(pending.deferred_timeout_ms) +
                                     " ms; it may still be delivered, so retry only if duplicates are acceptable"});
}

// Serves one connection: requests are read, handled and answered strictly one after another,
// which is what makes pipelining safe. Errors while framing a request are answered, then the
// connection is closed: after a framing error we cannot know where the next request starts.
//
// No co_await below has a temporary with a destructor in its operand: g++ 12 has known bugs
// destroying such temporaries twice across a suspension.
// Counts a request from its header until its answer is written, for draining.
class ActiveRequest {
 public:
  explicit ActiveRequest(std::atomic<int>& count) : count_(count) { count_.fetch_add(1); }
  ~ActiveRequest() { count_.fetch_sub(1); }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

 private:
  std::atomic<int>& count_;
};

asio::awaitable<void> serve_connection(tcp::socket socket, const Router& router, const http::ServerOptions& settings,
                                       std::atomic<int>& active_requests, const std::atomic<bool>& draining) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  beast::error_code error;
  const auto idle_timeout = std::chrono::milliseconds(settings.idle_timeout_ms);
  std::optional<Error> fatal;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
    parser.body_limit(settings.max_body_bytes);

    stream.expires_after(idle_timeout);
    co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      const std::uint64_t length = parser.is_header_done() ? parser.content_length().value_or(0) : 0;
      fatal = header_failure(error, length, buffer, settings);
      break;
    }
    const ActiveRequest counted(active_requests);
    // Reject an oversized body from its Content-Length before reading a byte of it.
    if (auto length = parser.content_length(); length && *length > settings.max_body_bytes) {
      fatal = too_large(*length, settings.max_body_bytes);
      break;
    }
    // curl and many SDKs wait for "100 Continue" before sending bodies over 1 KiB.
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
      co_await bhttp::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, error));
      if (error) break;
    }
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, error));
    if (error == bhttp::error::body_limit) {
      fatal = too_large(0, settings.max_body_bytes);
      break;
    }
    if (error) {
      if (!is_quiet_close(error)) fatal = Error{ErrorCode::kBadRequest, "malformed HTTP body: " + error.message()};
      break;
    }

    const BeastRequest& beast_request = parser.get();
    const BeastHeaders headers(beast_request);
    const Request request = to_request(beast_request, headers);
    Response response = router.dispatch(request);
    if (response.deferred) response = co_await await_deferred(std::move(response));
    // While draining, every answer closes its connection so clients move to another gateway.
    const bool keep_alive = beast_request.keep_alive() && !response.close_connection && !draining.load();
    auto out = to_beast(std::move(response), beast_request.version(), keep_alive, request.method == Method::kHead);
    co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, error));
    if (error || !keep_alive) break;
  }
  if (fatal) {
    Response response = error_response(*fatal);
    response.close_connection = true;
    auto out = to_beast(std::move(response), 11, false, false);
    co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, error));
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, error);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const Router& router, const http::ServerOptions& settings,
                                  std::atomic<int>& active_requests, const std::atomic<bool>& draining) {
  for (;;) {
    beast::error_code error;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Out of file descriptors and similar: log, pause briefly, keep serving.
      spdlog::warn("http: accept failed: {}", error.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(),
                   serve_connection(std::move(socket), router, settings, active_requests, draining), asio::detached);
  }
}

}  // namespace

struct HttpServer::Worker {
  asio::io_context context{1};  // concurrency hint 1: this context is only run by one thread
  tcp::acceptor acceptor{context};
};

HttpServer::HttpServer(const http::ServerOptions& settings, const Router& router)
    : settings_(settings), router_(router) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  unsigned thread_count = settings_.threads;
  if (thread_count == 0) thread_count = std::max(1u, std::thread::hardware_concurrency());

  beast::error_code error;
  const auto address = asio::ip::make_address(settings_.address, error);
  if (error) throw std::runtime_error("server.listen: '" + settings_.address + "' is not an IP address");
  tcp::endpoint endpoint(address, settings_.port);

  for (unsigned i = 0; i < thread_count; ++i) {
    auto worker = std::make_unique<Worker>();
    auto& acceptor = worker->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    // Every worker binds the same port; the kernel balances new connections across them.
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    acceptor.bind(endpoint, error);
    if (error) {
      throw std::runtime_error("cannot listen on " + settings_.address + ":" + std::to_string(endpoint.port()) + ": " +
                               error.message());
    }
    acceptor.listen(asio::socket_base::max_listen_connections);
    // With port 0 the first bind picks a port; the others must share it.
    if (i == 0) {
      bound_port_ = acceptor.local_endpoint().port();
      endpoint.port(bound_port_);
    }
    workers_.push_back(std::move(worker));
  }
  for (auto& worker : workers_) {
    asio::co_spawn(worker->context,
                   accept_loop(worker->acceptor, router_, settings_, shared_.active_requests, shared_.draining),
                   asio::detached);
    threads_.emplace_back([context = &worker->context] { context->run(); });
  }
}

void HttpServer::stop_accepting() {
  shared_.draining.store(true);
  for (auto& worker : workers_) {
    asio::post(worker->context, [acceptor = &worker->acceptor] {
      beast::error_code ignored;
      acceptor->close(ignored);
    });
  }
}

bool HttpServer::wait_idle(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (shared_.active_requests.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& worker : workers_) worker->context.stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace intake::http
