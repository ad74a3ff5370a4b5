// ConsulRegistration: keeps this gateway registered as a service of the local Consul agent,
// with an HTTP check of its /readyz, and deregisters it on shutdown. Not a config source: it
// writes to Consul instead of reading from it, but shares the sources' Consul client.
//
// The loop (a coroutine on the control io_context):
//  - PUT /v1/agent/service/register, then every check interval GET /v1/agent/service/<id>;
//  - a 404 (the agent lost the service: a restarted -dev agent, a reaped critical service)
//    or an agent that did not answer leads to registering again;
//  - failures back off with jitter (250 ms doubling to 30 s), never spin;
//  - each (re)registration is logged once at info, the first failure of a streak at warn.
// The token is sent as X-Consul-Token and appears in no log line or error.
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>

#include "sources/consul_client.h"
#include "sources/consul_registration_options.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace intake::sources {

class ConsulRegistration {
 public:
  // Throws std::invalid_argument for a bad agent address (start-up only). `transport` empty
  // = HTTP to options.agent (tests put a fake agent here).
  explicit ConsulRegistration(ConsulRegistrationOptions options, ConsulTransport transport = {});

  // Starts registering the service at `listener_port` (used when options.port is 0) on
  // `control`, which must be running or about to run. Call once, after the listener is bound
  // so the check can pass.
  void start(boost::asio::io_context& control, std::uint16_t listener_port);

  // Ends the loop and deregisters the service. Waits at most `timeout` (an agent call in
  // flight finishes first; each call is bounded by 1 s). Returns true iff the agent confirmed.
  // Call from a thread other than the control thread, while the control context runs; a
  // no-op before start().
  bool deregister(std::chrono::milliseconds timeout);

  // Safe from any thread.
  bool registered() const { return registered_.load(std::memory_order_relaxed); }
  std::uint64_t registrations() const { return registrations_.load(std::memory_order_relaxed); }

  // The JSON body of the register call (exposed for tests).
  std::string registration_body() const;
  const std::string& service_id() const { return service_id_; }
  // The URL the agent's check asks (exposed for tests).
  std::string check_url() const;

 private:
  boost::asio::awaitable<void> run();
  // A call to the agent, with the token when there is one.
  HttpCall agent_call(std::string method, std::string target, std::string body) const;

  ConsulRegistrationOptions options_;
  ConsulEndpoint endpoint_;
  std::string service_id_;
  boost::asio::io_context* control_ = nullptr;
  // Control thread only: set by deregister(), and the loop's pause it cancels.
  bool stopping_ = false;
  boost::asio::steady_timer* pause_ = nullptr;
  std::promise<bool> deregistered_;
  std::atomic<bool> registered_{false};
  std::atomic<std::uint64_t> registrations_{0};
};

}  // namespace intake::sources
