// RecordSink: where accepted records go. The request path depends only on this interface; the
// librdkafka producer implements it (kafka/producer.h) and unit tests use a fake.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "error/result.h"

namespace intake::kafka {

struct OutgoingRecord;

// Why Kafka did not take a record, after librdkafka's own retries. Counted per reason; which
// librdkafka error becomes which reason is one table in kafka/error_class.cc.
enum class FailureReason : std::uint8_t {
  // Transient: the same record can succeed later, so it is retried (or spooled).
  kTimedOut,           // message.timeout.ms passed (typically: no broker for that long)
  kPurged,             // given up at shutdown: a spooled record stays on disk for the next start
  kHandOverFailed,     // its producer was replaced and the new one could not take it (queue full)
  kBrokerUnavailable,  // transport, leader or replica trouble that librdkafka gave up on
  kQueueFull,          // the producer's queue bound
  kFatal,              // the idempotent producer hit a fatal error; a fresh producer can take it
  // Permanent: Kafka refuses the record as it is; it is never retried, only quarantined.
  kTooLarge,          // the broker's or producer's message.max.bytes is smaller
  kUnknownTopic,      // the topic does not exist and is not auto-created
  kUnknownPartition,  // the partition the client named does not exist
  kNotAuthorized,     // the broker's ACLs refuse the producer
  kInvalidRecord,     // the broker says the record is malformed, or an argument is invalid
  kOther,             // an error the table does not know: treated as permanent (see error_class.h)
  kCount_,
};

// Stable snake_case name for logs and metrics.
std::string_view failure_reason_name(FailureReason reason);

// True iff producing the same record again later can succeed (a transient failure).
inline bool retriable(FailureReason reason) { return reason < FailureReason::kTooLarge; }

// The outcome of one record, reported once it is known.
struct DeliveryReport {
  bool delivered = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  Error error;                                   // when !delivered
  FailureReason reason = FailureReason::kOther;  // when !delivered
  std::uint64_t ticket = 0;                      // the record's ticket (OutgoingRecord::ticket)
  // When !delivered: the record itself, so it can be kept elsewhere. Valid during the call.
  const OutgoingRecord* record = nullptr;
  // When delivered: the record's Kafka timestamp (unix ms: the one it was produced with, or
  // the broker's for a LogAppendTime topic); -1 when Kafka did not say.
  std::int64_t timestamp_ms = -1;
};

// Told the outcome of a record exactly once, on a producer thread. Must not block for long.
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
  // Sync mode: told the outcome. Must outlive the delivery. nullptr = async: the sink's own
  // listener for async records (if any) hears of failures and of ticketed deliveries.
  DeliveryListener* listener = nullptr;
  // Async records only: an id the sink's async listener gets back with the outcome (the
  // spool's place of the record). 0 = none. At most 2^63 - 1.
  std::uint64_t ticket = 0;
  // The record's timestamp (unix ms) as the client gave it; 0 = the producer stamps it now.
  // Kept by the producer (and by a hand-over); a spooled record is restamped when replayed.
  std::int64_t timestamp_ms = 0;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;

  // Hands the record to the producer without blocking. Success means the producer owns it and
  // will deliver it or report the failure (to `listener`, if any). Errors: transient ones
  // (backpressure, kafka_unavailable, shutting_down) and permanent ones (topic_not_found,
  // partition_not_found, record_too_large, ...: kafka/error_class.h); the listener is then not
  // called.
  virtual Result<void> enqueue(const OutgoingRecord& record) = 0;

  // What can be known without producing: a permanent refusal Kafka would give this record
  // (too large for message.max.bytes, a partition or topic the cluster's metadata says does not
  // exist). Lets a spool refuse a record before its 2xx instead of quarantining it after.
  // Success means "nothing known against it", not a promise.
  virtual Result<void> check(const OutgoingRecord& /*record*/) const { return {}; }

  // True while at least one broker is reachable (readiness).
  virtual bool ready() const = 0;
};

}  // namespace intake::kafka
