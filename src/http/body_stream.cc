#include "http/body_stream.h"

#include <utility>

namespace intake::http {

void StreamOutput::write(std::string_view part) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    parts_.append(part);
    wake = wake_;
  }
  if (wake) wake();  // outside the lock: the waker posts to the connection's thread
}

void StreamOutput::finish() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

void StreamOutput::set_waker(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

bool StreamOutput::take(std::string& into) {
  std::lock_guard lock(mutex_);
  into.append(parts_);
  parts_.clear();
  return finished_;
}

}  // namespace intake::http
