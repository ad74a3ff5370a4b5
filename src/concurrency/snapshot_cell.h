// SnapshotCell<T>: an immutable value swapped now and then by a control thread and read on
// every request. Readers on the request path keep their own shared_ptr per thread and reload it
// only when the cell's generation moved: one atomic integer load in the steady state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "concurrency/shared_slot.h"

namespace intake::concurrency {

namespace detail {
// Unique across every cell of every type in the process: a thread's cached generation can only
// match the cell it was read from. 0 is what no thread has seen yet.
inline std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

template <typename T>
class SnapshotCell {
 public:
  explicit SnapshotCell(std::shared_ptr<const T> initial)
      : current_(std::move(initial)), generation_(detail::next_generation()) {}

  // The control path: a shared reference of its own.
  std::shared_ptr<const T> load() const { return current_.load(); }

  // Makes `next` current; readers see it from their next read_on_this_thread().
  void store(std::shared_ptr<const T> next) {
    current_.store(std::move(next));
    generation_.store(detail::next_generation(), std::memory_order_release);
  }

  // The request path. The reference stays valid until this thread's next call on any
  // SnapshotCell<T> (one cached copy per thread and T), and that copy keeps a replaced value
  // alive until then.
  const T& read_on_this_thread() const {
    thread_local std::uint64_t seen_generation = 0;
    thread_local std::shared_ptr<const T> held;
    const auto generation = generation_.load(std::memory_order_acquire);
    if (generation != seen_generation) {
      held = load();  // at least as new as `generation`
      seen_generation = generation;
    }
    return *held;
  }

 private:
  SharedSlot<const T> current_;
  std::atomic<std::uint64_t> generation_;  // stored after current_ on every store()
};

}  // namespace intake::concurrency
