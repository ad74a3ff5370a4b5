// RecordSink: where accepted records go. The request path depends only on this interface; the
// librdkafka producer implements it (kafka/producer.h) and unit tests use a fake.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "error/result.h"

namespace intake::kafka {

// The outcome of one record, reported once it is known (sync mode).
struct DeliveryReport {
  bool delivered = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  Error error;  // when !delivered
};

// Told the outcome of a record exactly once, on a producer thread. Must not block.
class DeliveryListener {
 public:
  virtual ~DeliveryListener() = default;
  virtual void on_delivery(const DeliveryReport& report) = 0;
};

struct RecordHeader {
  std::string_view name;
  std::string_view value;
};

// One record to produce. Views are only read during enqueue(); the sink copies what it keeps.
struct OutgoingRecord {
  std::string_view topic;
  std::string_view key;  // empty = no key (partitioner spreads records)
  std::string_view value;
  std::int32_t partition = -1;  // -1 = the partitioner chooses
  std::span<const RecordHeader> headers;
  // Sync mode: told the outcome. Must outlive the delivery. nullptr = async (fire and count).
  DeliveryListener* listener = nullptr;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;

  // Hands the record to the producer without blocking. Success means the producer owns it and
  // will deliver it or report the failure (to `listener`, if any). Errors: backpressure (queue
  // full), kafka_unavailable (no broker reachable), shutting_down; the listener is then not
  // called.
  virtual Result<void> enqueue(const OutgoingRecord& record) = 0;

  // True while at least one broker is reachable (readiness).
  virtual bool ready() const = 0;
};

}  // namespace intake::kafka
