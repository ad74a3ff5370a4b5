// SharedSlot<T>: a shared_ptr that one thread replaces while others take copies of it — what
// std::atomic<std::shared_ptr<T>> promises. libstdc++ 12 implements that with a spin lock in the
// pointer's low bit, which ThreadSanitizer cannot see (every store is reported as a race against
// every load); a plain mutex costs the same uncontended and is visible to it.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace intake::concurrency {

template <typename T>
class SharedSlot {
 public:
  SharedSlot() = default;
  explicit SharedSlot(std::shared_ptr<T> initial) : value_(std::move(initial)) {}
  SharedSlot(const SharedSlot&) = delete;
  SharedSlot& operator=(const SharedSlot&) = delete;

  std::shared_ptr<T> load() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  void store(std::shared_ptr<T> next) {
    {
      std::lock_guard lock(mutex_);
      value_.swap(next);
    }
    // `next` holds the replaced value: its destructor (maybe the last owner's) runs unlocked.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

}  // namespace intake::concurrency
