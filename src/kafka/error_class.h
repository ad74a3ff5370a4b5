// How the gateway treats every error librdkafka can give a record, from rd_kafka_producev() or a
// delivery report: one table (error_class.cc) says whether the error is transient (the same
// record can succeed later: retry, spool) or permanent (Kafka refuses the record as it is:
// tell the client, never spool, never retry; quarantine what was already accepted), and which
// stable error code a client sees. docs/delivery.md lists the classes.
//
// An error the table does not list is permanent: a record quarantined by mistake is kept on
// disk and counted, while a permanent error taken for a transient one would block every record
// behind it in the spool forever.
#pragma once

#include <cstdint>
#include <string_view>

#include "error/error.h"
#include "kafka/record_sink.h"

namespace intake::kafka {

struct ErrorClass {
  FailureReason reason = FailureReason::kOther;
  ErrorCode code = ErrorCode::kDeliveryFailed;  // what a client is told
  bool listed = false;                          // false: not in the table, the permanent default

  bool transient() const { return retriable(reason); }
};

// `librdkafka_error` is an rd_kafka_resp_err_t.
ErrorClass classify_kafka_error(int librdkafka_error);

// What the record was, for the client's message.
struct RecordContext {
  std::string_view topic;
  std::int32_t partition = -1;        // the partition the client named, or -1
  std::int32_t partition_count = -1;  // the topic's partitions as far as metadata says, or -1
};

// The client-facing error for `librdkafka_error` on that record: the class's code and a
// message that says what to fix (a partition error names the topic's partition count).
Error kafka_error(int librdkafka_error, const RecordContext& record);

// True iff a RecordSink::enqueue() error with this code says "not now" rather than "never":
// the record may be spooled or retried.
inline bool transient_code(ErrorCode code) {
  return code == ErrorCode::kBackpressure || code == ErrorCode::kKafkaUnavailable ||
         code == ErrorCode::kDeliveryTimeout || code == ErrorCode::kShuttingDown;
}

}  // namespace intake::kafka
