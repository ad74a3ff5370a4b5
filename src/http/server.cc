#include "http/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <stdexcept>

#include "http/connection.h"

namespace intake::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// How often each worker looks at its connections' clocks: timeouts are this precise, and
// no request pays for a timer of its own.
constexpr auto kSweepInterval = std::chrono::milliseconds(200);
// Refused connections linger (so the 503 is read) at most this many per worker; past it a
// connection over a cap is closed unanswered.
constexpr std::size_t kMaxLingeringRefusals = 256;

ClientAddress client_address(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return address.is_v4() ? asio::ip::make_address_v6(asio::ip::v4_mapped, address.to_v4()).to_bytes()
                         : address.to_v6().to_bytes();
}

}  // namespace

unsigned HttpServer::worker_count() const {
  return settings_.threads != 0 ? settings_.threads : std::max(1u, std::thread::hardware_concurrency());
}

struct HttpServer::Worker {
  explicit Worker(const ConnectionEnv& shared) : env(shared) {}
  // Only this worker's thread touches its sockets and timers, so the reactor needs no locks
  // for I/O; posts from other threads (sync answers, stop) still go through the locked queue.
  asio::io_context context{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp::acceptor acceptor{context};
  asio::steady_timer sweep_timer{context};
  asio::steady_timer accept_pause{context};
  ConnectionEnv env;
  Connection::Registry connections;
  std::size_t lingering_refusals = 0;  // recounted by every sweep

  void sweep() {
    const Clock::time_point now = Clock::now();
    std::size_t refusals = 0;
    for (auto it = connections.begin(); it != connections.end();) {
      auto next = std::next(it);    // check_deadline may close (and unlist) this one
      const auto connection = *it;  // a reference of our own: closing unlists it
      if (!connection->counted()) ++refusals;
      connection->check_deadline(now);
      it = next;
    }
    lingering_refusals = refusals;
    sweep_timer.expires_after(kSweepInterval);
    sweep_timer.async_wait([this](const error_code& error) {
      if (!error) sweep();
    });
  }
};

HttpServer::HttpServer(const http::ServerOptions& settings, const Router& router)
    : settings_(settings),
      router_(router),
      caps_(settings.max_connections, settings.max_connections_per_ip),
      budget_(settings.max_inflight_body_bytes) {}

HttpServer::~HttpServer() { stop(); }

std::vector<asio::io_context*> HttpServer::event_loops() const {
  std::vector<asio::io_context*> loops;
  for (const auto& worker : workers_) loops.push_back(&worker->context);
  return loops;
}

void HttpServer::start() {
  const unsigned thread_count = worker_count();

  error_code error;
  const auto address = asio::ip::make_address(settings_.address, error);
  if (error) throw std::runtime_error("server.listen: '" + settings_.address + "' is not an IP address");
  tcp::endpoint endpoint(address, settings_.port);

  if (settings_.tls && !tls_) tls_ = std::make_unique<TlsReloader>(*settings_.tls);
  for (unsigned i = 0; i < thread_count; ++i) {
    auto worker = std::make_unique<Worker>(
        ConnectionEnv{settings_, router_, caps_, budget_, counters_, active_requests_, draining_, observers_, i});
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
  if (tls_) tls_->start();
  for (auto& worker : workers_) {
    accept_next(*worker);
    worker->sweep();
    threads_.emplace_back([context = &worker->context] { context->run(); });
  }
}

void HttpServer::accept_next(Worker& worker) {
  worker.acceptor.async_accept([this, &worker](const error_code& error, tcp::socket socket) {
    if (error) {
      if (error == asio::error::operation_aborted || !worker.acceptor.is_open()) return;
      // Out of file descriptors and similar: log, pause briefly, keep serving.
      spdlog::warn("http: accept failed: {}", error.message());
      worker.accept_pause.expires_after(std::chrono::milliseconds(50));
      worker.accept_pause.async_wait([this, &worker](const error_code& paused) {
        if (!paused) accept_next(worker);
      });
      return;
    }
    error_code no_peer;
    const auto peer = socket.remote_endpoint(no_peer);
    if (!no_peer) {
      const ClientAddress client = client_address(peer);
      const Admission admission = caps_.admit(client);
      if (admission == Admission::kAdmitted) {
        counters_.accepted.fetch_add(1, std::memory_order_relaxed);
        auto connection = std::make_shared<Connection>(std::move(socket), client, true, worker.env, worker.connections,
                                                       tls_ ? tls_->current() : nullptr);
        worker.connections.push_front(connection);
        connection->start(worker.connections.begin());
      } else {
        const bool global = admission == Admission::kOverGlobalCap;
        (global ? counters_.refused_global_cap : counters_.refused_client_cap).fetch_add(1, std::memory_order_relaxed);
        if (worker.lingering_refusals < kMaxLingeringRefusals) {
          ++worker.lingering_refusals;
          const std::string message =
              global ? "the gateway has " + std::to_string(settings_.max_connections) +
                           " connections open (server.max_connections); retry shortly or use another gateway"
                     : "this client address has " + std::to_string(settings_.max_connections_per_ip) +
                           " connections open (server.max_connections_per_ip); reuse connections (keep-alive)";
          auto connection = std::make_shared<Connection>(std::move(socket), client, false, worker.env,
                                                         worker.connections, tls_ ? tls_->current() : nullptr);
          worker.connections.push_front(connection);
          connection->refuse(worker.connections.begin(),
                             error_response(Error{ErrorCode::kTooManyConnections, message, settings_.retry_after_s}));
        } else {
          counters_.dropped_over_cap.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    accept_next(worker);
  });
}

void HttpServer::stop_accepting() {
  draining_.store(true);
  for (auto& worker : workers_) {
    asio::post(worker->context, [acceptor = &worker->acceptor] {
      error_code ignored;
      acceptor->close(ignored);
    });
  }
}

bool HttpServer::wait_idle(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (active_requests_.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (tls_) tls_->stop();
  for (auto& worker : workers_) worker->context.stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  // Connections close before their io_context goes.
  for (auto& worker : workers_) {
    while (!worker->connections.empty()) worker->connections.front()->close();
  }
}

}  // namespace intake::http
