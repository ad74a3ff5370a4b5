// The per-record reports of a streaming request, written in record order however Kafka's
// acknowledgements interleave: report k waits for reports before it. Thread-safe: the stream
// reserves slots on the connection's thread, delivery listeners fill them on producer threads.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/body_stream.h"

namespace intake::api {

class OrderedReports {
 public:
  explicit OrderedReports(std::shared_ptr<http::StreamOutput> output) : output_(std::move(output)) {}

  // The slot of the next record.
  std::size_t reserve();
  // The report of `slot`; written once every earlier slot's is. Each slot is filled once.
  void fill(std::size_t slot, std::string report);
  // No more slots: the output finishes once every reserved slot's report is written.
  void end();
  // Slots reserved and not yet written (a stream may cap how far Kafka falls behind).
  std::size_t outstanding() const;

 private:
  void finish_if_done();  // REQUIRES: mutex_ held

  std::shared_ptr<http::StreamOutput> output_;
  mutable std::mutex mutex_;
  std::deque<std::optional<std::string>> waiting_;  // slots first_waiting_, first_waiting_ + 1, ...
  std::size_t first_waiting_ = 0;
  bool ended_ = false;
};

}  // namespace intake::api
