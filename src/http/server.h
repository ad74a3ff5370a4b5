// HttpServer: HTTP/1.1 with keep-alive and pipelining, one io_context and one acceptor per
// thread (SO_REUSEPORT spreads connections across them), so a connection lives on one thread
// and its requests take no lock. Requests on one connection are answered strictly in order.
//
// Limits are checked before work is done: header size, then Content-Length against
// max_body_bytes before the body is read (413), idle timeout per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "http/router.h"
#include "http/server_options.h"

namespace intake::http {

class HttpServer {
 public:
  // `router` must outlive the server.
  HttpServer(const http::ServerOptions& settings, const Router& router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads. Throws std::runtime_error when the address cannot be bound.
  void start();

  // The bound port (useful with port 0 in tests). REQUIRES: start() returned.
  std::uint16_t port() const { return bound_port_; }

  // Closes the listeners: new connections are refused. Requests already being handled on
  // open connections finish and are answered with `Connection: close`.
  void stop_accepting();

  // Waits until no request is being handled (or `timeout` passes). Returns true if idle.
  bool wait_idle(std::chrono::milliseconds timeout) const;

  // Requests read but not yet answered, across all threads.
  int active_requests() const { return shared_.active_requests.load(); }

  // Stops every thread within ~100 ms and closes all connections. Idempotent.
  void stop();

 private:
  struct Worker;
  // What every connection coroutine reads or counts.
  struct Shared {
    std::atomic<int> active_requests{0};
    std::atomic<bool> draining{false};
  };
  http::ServerOptions settings_;
  Shared shared_;
  const Router& router_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::uint16_t bound_port_ = 0;
  bool stopped_ = false;
};

}  // namespace intake::http
