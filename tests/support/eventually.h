// Polls a condition until it holds or a deadline passes: for effects that arrive
// asynchronously (a registry change reaching the gateway). The deadline bounds the test; it
// is not a performance assertion.
#pragma once

#include <chrono>
#include <thread>

namespace intake::testing {

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds deadline = std::chrono::seconds(15),
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(interval);
  }
  return predicate();
}

}  // namespace intake::testing
