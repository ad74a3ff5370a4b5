#include "config/store.h"

namespace intake::config {
namespace {

std::atomic<std::uint64_t> next_generation{1};  // 0 is what no thread has seen yet

}  // namespace

ConfigStore::ConfigStore() : current_(std::make_shared<const Config>()), generation_(next_generation.fetch_add(1)) {}

const Config& ConfigStore::current_for_request() const {
  // The snapshot changes once per publish. Loading the atomic shared_ptr on every request would
  // take its lock bit and touch a count every core shares (libstdc++ 12's atomic<shared_ptr>
  // is not lock-free); a thread-held copy and a generation check cost one integer load.
  thread_local std::uint64_t seen_generation = 0;
  thread_local std::shared_ptr<const Config> held;
  const auto generation = generation_.load(std::memory_order_acquire);
  if (generation != seen_generation) {
    held = current_.load(std::memory_order_acquire);  // at least as new as `generation`
    seen_generation = generation;
  }
  return *held;
}

std::uint64_t ConfigStore::publish(std::shared_ptr<Config> next) {
  std::lock_guard lock(mutex_);
  next->version = ++last_version_;
  next->applied_at = std::chrono::system_clock::now();
  std::shared_ptr<const Config> published = std::move(next);
  for (const auto& preparer : preparers_) preparer(*published);
  current_.store(published, std::memory_order_release);
  generation_.store(next_generation.fetch_add(1), std::memory_order_release);
  ++counters_.published;
  // Under the lock so listeners see publishes one at a time and in order.
  for (const auto& listener : listeners_) listener(*published);
  return published->version;
}

void ConfigStore::reject(RejectedUpdate rejected) {
  std::lock_guard lock(mutex_);
  if (rejected.at == std::chrono::system_clock::time_point{}) rejected.at = std::chrono::system_clock::now();
  last_rejected_ = std::move(rejected);
  ++counters_.rejected;
}

void ConfigStore::note_unchanged() {
  std::lock_guard lock(mutex_);
  ++counters_.unchanged;
}

std::optional<RejectedUpdate> ConfigStore::last_rejected() const {
  std::lock_guard lock(mutex_);
  return last_rejected_;
}

StoreCounters ConfigStore::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void ConfigStore::before_publish(std::function<void(const Config&)> preparer) {
  std::lock_guard lock(mutex_);
  preparers_.push_back(std::move(preparer));
}

void ConfigStore::on_publish(std::function<void(const Config&)> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace intake::config
