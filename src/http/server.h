// HttpServer: HTTP/1.1 with keep-alive and pipelining, one io_context and one acceptor per
// thread (SO_REUSEPORT spreads connections across them), so a connection lives on one thread
// and its requests take no lock. Requests on one connection are answered strictly in order
// (http/connection.h has the request path).
//
// What an open network can hold is capped (http/server_options.h): connections in all and
// per client address (over a cap: 503 too_many_connections and close), bodies held in memory
// (503 server_busy before the body is read), and each phase of a request has its own clock.
// A handler sees the headers before the body is read (Handler::check_headers).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "http/connection_limits.h"
#include "http/request_observer.h"
#include "http/router.h"
#include "http/server_counters.h"
#include "http/server_options.h"
#include "http/tls_reloader.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace intake::http {

class HttpServer {
 public:
  // `router` must outlive the server.
  HttpServer(const http::ServerOptions& settings, const Router& router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads (and, with server.tls, the certificate watcher). Throws
  // std::runtime_error when the address cannot be bound or the certificate or key cannot be
  // loaded.
  void start();

  // `observer` is told of every answered request (http/request_observer.h), on the answering
  // worker's thread. REQUIRES: before start(); `observer` outlives the server.
  void add_observer(RequestObserver& observer) { observers_.push_back(&observer); }
  // The number of worker threads start() runs (server.threads, 0 = one per core): observers'
  // shard count, AnsweredRequest::worker is below it.
  unsigned worker_count() const;

  // The workers' event loops, for concurrency::loops_turn_within (the watchdog's probe).
  // REQUIRES: start() returned; the pointers live as long as the server.
  std::vector<boost::asio::io_context*> event_loops() const;

  // The bound port (useful with port 0 in tests). REQUIRES: start() returned.
  std::uint16_t port() const { return bound_port_; }

  // Closes the listeners: new connections are refused. Requests already being handled on
  // open connections finish and are answered with `Connection: close`; idle keep-alive
  // connections are closed.
  void stop_accepting();

  // Waits until no request is being handled (or `timeout` passes). Returns true if idle.
  bool wait_idle(std::chrono::milliseconds timeout) const;

  // Requests read but not yet answered, across all threads.
  int active_requests() const { return active_requests_.load(); }

  // Stops every thread within ~100 ms and closes all connections. Idempotent.
  void stop();

  // For /metrics.
  const ServerCounters& counters() const { return counters_; }
  std::uint32_t open_connections() const { return caps_.open(); }
  std::size_t inflight_body_bytes() const { return budget_.held(); }
  const http::ServerOptions& options() const { return settings_; }
  // Null without server.tls (or before start()).
  const TlsReloader* tls() const { return tls_.get(); }

 private:
  struct Worker;
  void accept_next(Worker& worker);

  http::ServerOptions settings_;
  const Router& router_;
  std::atomic<int> active_requests_{0};
  std::atomic<bool> draining_{false};
  ConnectionCaps caps_;
  BodyBudget budget_;
  ServerCounters counters_;
  std::unique_ptr<TlsReloader> tls_;
  std::vector<RequestObserver*> observers_;
  std::vector<std::unique_ptr<Worker>> workers_;  // after what their connections use: destroyed first
  std::vector<std::thread> threads_;
  std::uint16_t bound_port_ = 0;
  bool stopped_ = false;
};

}  // namespace intake::http
