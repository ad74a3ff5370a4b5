// Whether event loops still turn: a no-op is posted to each io_context and the caller waits
// until every one has run it. A loop stuck in a handler (a deadlock, a blocking call that never
// returns) does not run it in time. Used by the service manager's watchdog (app/main.cc): a
// gateway whose loops are stuck stops pinging and is restarted, instead of pinging from a thread
// that would stay healthy while nothing is served.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <thread>

namespace intake::concurrency {

// True iff every context in `loops` ran a posted no-op within `timeout`. Call from a thread
// that runs none of them. Allocates one counter per call (a probe every few seconds).
inline bool loops_turn_within(std::span<boost::asio::io_context* const> loops, std::chrono::milliseconds timeout) {
  // Shared with the posted handlers: a stuck loop may run its no-op after this returned.
  auto ran = std::make_shared<std::atomic<std::size_t>>(0);
  for (auto* loop : loops) boost::asio::post(*loop, [ran] { ran->fetch_add(1, std::memory_order_release); });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ran->load(std::memory_order_acquire) < loops.size()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace intake::concurrency
