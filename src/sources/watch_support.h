// What every registry watcher shares: counters for /admin and the retry backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "sources/source.h"

namespace intake::sources {

// Counters shared between a watcher's thread (writer) and /admin readers.
class WatchStats {
 public:
  void count_request() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_error() { errors_.fetch_add(1, std::memory_order_relaxed); }
  void count_snapshot(std::string revision);
  SourceStats snapshot() const;

 private:
  std::atomic<std::uint64_t> requests_{0}, errors_{0}, snapshots_{0};
  mutable std::mutex mutex_;
  std::string revision_;
};

// Retry delays after consecutive failures: a base of 250 ms doubling to 30 s, each delay
// jittered to 50-100% of its base so many gateways do not retry in lockstep.
class Backoff {
 public:
  std::chrono::milliseconds next();
  void reset() { base_ = std::chrono::milliseconds(0); }

 private:
  std::chrono::milliseconds base_{0};
};

}  // namespace intake::sources
