#include "sources/watch_support.h"

#include <algorithm>
#include <random>

namespace intake::sources {

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

}  // namespace intake::sources
