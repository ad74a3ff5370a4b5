#include "api/ordered_reports.h"

#include <utility>

namespace intake::api {

std::size_t OrderedReports::reserve() {
  std::lock_guard lock(mutex_);
  waiting_.emplace_back();
  return first_waiting_ + waiting_.size() - 1;
}

void OrderedReports::fill(std::size_t slot, std::string report) {
  std::lock_guard lock(mutex_);
  if (slot < first_waiting_ || slot - first_waiting_ >= waiting_.size()) return;  // not reserved, or written
  waiting_[slot - first_waiting_] = std::move(report);
  // Written under the lock, so two fillers cannot reorder what reaches the output.
  while (!waiting_.empty() && waiting_.front()) {
    output_->write(*waiting_.front());
    waiting_.pop_front();
    ++first_waiting_;
  }
  finish_if_done();
}

void OrderedReports::end() {
  std::lock_guard lock(mutex_);
  ended_ = true;
  finish_if_done();
}

std::size_t OrderedReports::outstanding() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void OrderedReports::finish_if_done() {
  if (ended_ && waiting_.empty()) output_->finish();
}

}  // namespace intake::api
