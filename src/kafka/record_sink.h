// RecordSink: where accepted records go. The request path depends only on this interface; the
// librdkafka producer implements it (kafka/producer.h) and unit tests use a fake.
#pragma once

#include <cstdint>
#include <string_view>

#include "error/result.h"

namespace intake::kafka {

// One record to produce. Views are only read during enqueue(); the sink copies what it keeps.
struct OutgoingRecord {
  std::string_view topic;
  std::string_view key;  // empty = no key (partitioner spreads records)
  std::string_view value;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;

  // Hands the record to the producer without blocking. Success means the producer owns it and
  // will deliver it or report the failure. Errors: backpressure (queue full),
  // kafka_unavailable (no broker reachable), shutting_down.
  virtual Result<void> enqueue(const OutgoingRecord& record) = 0;

  // True while at least one broker is reachable (readiness).
  virtual bool ready() const = 0;
};

}  // namespace intake::kafka
