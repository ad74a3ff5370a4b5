// Error codes for everything a client can be told, and the one table that maps each code to
// its stable JSON name and HTTP status. Errors are values on the request path (see result.h);
// adding a code means adding one row to kErrorTable in error.cc, nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace intake {

enum class ErrorCode : std::uint8_t {
  kBadRequest,
  kEmptyBody,
  kInvalidTopic,
  kMissingApiKey,
  kInvalidApiKey,
  kKeyDisabled,
  kKeyExpired,
  kSignatureRequired,
  kInvalidSignature,
  kSignatureExpired,
  kSignatureReplayed,
  kRateLimited,
  kTopicNotAllowed,
  kNotFound,
  kMethodNotAllowed,
  kPayloadTooLarge,
  kRequestHeaderTooLarge,
  kBackpressure,
  kKafkaUnavailable,
  kDeliveryFailed,
  kDeliveryTimeout,
  kShuttingDown,
  kSpoolFull,
  kSpoolWriteFailed,
  kInternal,
  kInvalidConfig,
  kUnauthorizedAdmin,
  // Kafka refuses the record itself (kafka/error_class.h): resending it as it is cannot help.
  kTopicNotFound,
  kPartitionNotFound,
  kKafkaNotAuthorized,
  kRecordTooLarge,
  kInvalidRecord,
  kRequestTimeout,
  kTooManyConnections,
  kServerBusy,
  kUnsupportedMediaType,   // a Content-Type the route does not read
  kUnsupportedEncoding,    // a Content-Encoding other than gzip / zstd / identity
  kSchemaNotSupported,     // a Confluent schema-registry format (Avro, Protobuf, JSON Schema)
  kIdempotencyKeyReused,   // the same Idempotency-Key with another body
  kIdempotencyInProgress,  // the first request with this Idempotency-Key is still running
  kClusterNotFound,        // a Confluent v3 cluster id other than this gateway's
  kCount_,                 // not a code: the number of codes, keeps the table honest
};

// The JSON `code` value: stable snake_case, part of the public API.
std::string_view error_name(ErrorCode code);

// The HTTP status a response carrying this code uses.
int error_http_status(ErrorCode code);

// The Retry-After (seconds) a response carrying this code sends unless the error names its
// own; 0 = none (the client should not retry the same request as it is).
std::uint32_t error_retry_after_s(ErrorCode code);

// An error with a message that tells the client what to fix.
struct Error {
  Error() = default;
  Error(ErrorCode code_, std::string message_, std::uint32_t retry_after_s_ = 0)
      : code(code_), message(std::move(message_)), retry_after_s(retry_after_s_) {}

  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::uint32_t retry_after_s = 0;  // 0 = the code's default (error_retry_after_s)
  int os_errno = 0;                 // the errno behind a failed system call, 0 if none
};

}  // namespace intake
