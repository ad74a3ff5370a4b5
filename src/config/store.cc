#include "config/store.h"

namespace intake::config {

ConfigStore::ConfigStore() : current_(std::make_shared<const Config>()) {}

std::uint64_t ConfigStore::publish(std::shared_ptr<Config> next) {
  std::lock_guard lock(mutex_);
  next->version = ++last_version_;
  next->applied_at = std::chrono::system_clock::now();
  std::shared_ptr<const Config> published = std::move(next);
  for (const auto& preparer : preparers_) preparer(*published);
  current_.store(published);
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

bool ConfigStore::hold(HeldUpdate held) {
  std::lock_guard lock(mutex_);
  if (held_) {
    held.since = held_->since;
    const bool repeat = held_->content_hash == held.content_hash;
    held_ = std::move(held);
    if (repeat) return false;
  } else {
    if (held.since == std::chrono::system_clock::time_point{}) held.since = std::chrono::system_clock::now();
    held_ = std::move(held);
  }
  ++counters_.held;
  return true;
}

bool ConfigStore::clear_hold() {
  std::lock_guard lock(mutex_);
  const bool was = held_.has_value();
  held_.reset();
  return was;
}

std::optional<HeldUpdate> ConfigStore::held() const {
  std::lock_guard lock(mutex_);
  return held_;
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
