// SegmentSet: every live segment of a spool directory by number. The writer adds the segments
// it opens, the reader looks them up and removes those that finished, done() finds a ticket's
// segment. Safe from any thread; a segment handed out stays readable while it is held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "spool/segment.h"

namespace intake::spool {

class SegmentSet {
 public:
  void add(std::shared_ptr<Segment> segment) {
    std::lock_guard lock(mutex_);
    const auto seq = segment->seq();
    segments_.emplace(seq, std::move(segment));
  }

  // The segment numbered `seq`, or null.
  std::shared_ptr<Segment> find(std::uint32_t seq) const {
    std::lock_guard lock(mutex_);
    const auto found = segments_.find(seq);
    return found == segments_.end() ? nullptr : found->second;
  }

  // The lowest-numbered segment whose number is at least `seq`, or null.
  std::shared_ptr<Segment> first_from(std::uint32_t seq) const {
    std::lock_guard lock(mutex_);
    const auto found = segments_.lower_bound(seq);
    return found == segments_.end() ? nullptr : found->second;
  }

  // Removes and returns every finished segment (Segment::finished()), in number order.
  std::vector<std::shared_ptr<Segment>> take_finished() {
    std::vector<std::shared_ptr<Segment>> finished;
    std::lock_guard lock(mutex_);
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->second->finished()) {
        finished.push_back(it->second);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
    return finished;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return segments_.size();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    segments_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint32_t, std::shared_ptr<Segment>> segments_;
};

}  // namespace intake::spool
