// ConsumerSignal: how the spool's one consumer (SpoolingSink's feeder) is woken. Appenders say
// a record arrived, done() says a segment finished, anyone may wake() it; the consumer blocks
// in wait_for_work() or pause(). Safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace intake::spool {

class ConsumerSignal {
 public:
  // A record was appended: ends a wait_for_work(), not a pause().
  void records_appended() {
    new_records_.store(true, std::memory_order_release);
    work_.notify_one();
  }

  // A segment has every record done: the next maintenance deletes it (and does not wait for
  // its 50 ms tick); ends a wait_for_work(). Does not notify: pair with wake() to end a wait now.
  void segment_finished() { finished_segment_.store(true); }
  bool has_finished_segment() const { return finished_segment_.load(); }
  void clear_finished_segment() { finished_segment_.store(false); }

  // Ends the consumer's current (or next) wait_for_work() or pause().
  void wake() {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    work_.notify_all();
  }

  // Blocks until a record is appended, a segment finishes, wake() is called, or `timeout`.
  void wait_for_work(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    work_.wait_for(lock, timeout,
                   [this] { return woken_ || new_records_.exchange(false) || finished_segment_.load(); });
    woken_ = false;
  }

  // Blocks until wake() is called or `timeout`.
  void pause(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    work_.wait_for(lock, timeout, [this] { return woken_; });
    woken_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable work_;
  bool woken_ = false;
  std::atomic<bool> new_records_{false};
  std::atomic<bool> finished_segment_{false};
};

}  // namespace intake::spool
