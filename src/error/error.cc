#include "error/error.h"

#include <array>
#include <cstddef>

namespace intake {
namespace {

struct ErrorRow {
  ErrorCode code;
  std::string_view name;
  int http_status;
  std::uint32_t retry_after_s = 0;  // the Retry-After a response sends by default; 0 = none
};

constexpr std::array<ErrorRow, static_cast<std::size_t>(ErrorCode::kCount_)> kErrorTable{{
    {ErrorCode::kBadRequest, "bad_request", 400},
    {ErrorCode::kEmptyBody, "empty_body", 400},
    {ErrorCode::kInvalidTopic, "invalid_topic", 400},
    {ErrorCode::kMissingApiKey, "missing_api_key", 401},
    {ErrorCode::kInvalidApiKey, "invalid_api_key", 401},
    {ErrorCode::kKeyDisabled, "key_disabled", 403},
    {ErrorCode::kKeyExpired, "key_expired", 401},
    {ErrorCode::kSignatureRequired, "signature_required", 401},
    {ErrorCode::kInvalidSignature, "invalid_signature", 401},
    {ErrorCode::kSignatureExpired, "signature_expired", 401},
    {ErrorCode::kSignatureReplayed, "signature_replayed", 401},
    {ErrorCode::kRateLimited, "rate_limited", 429, 1},
    {ErrorCode::kTopicNotAllowed, "topic_not_allowed", 403},
    {ErrorCode::kNotFound, "not_found", 404},
    {ErrorCode::kMethodNotAllowed, "method_not_allowed", 405},
    {ErrorCode::kPayloadTooLarge, "payload_too_large", 413},
    {ErrorCode::kRequestHeaderTooLarge, "request_header_too_large", 431},
    {ErrorCode::kBackpressure, "backpressure", 429, 1},
    {ErrorCode::kKafkaUnavailable, "kafka_unavailable", 503, 5},
    {ErrorCode::kDeliveryFailed, "delivery_failed", 502},
    {ErrorCode::kDeliveryTimeout, "delivery_timeout", 504},
    {ErrorCode::kShuttingDown, "shutting_down", 503, 5},
    {ErrorCode::kSpoolFull, "spool_full", 507, 5},
    {ErrorCode::kSpoolWriteFailed, "spool_write_failed", 500},
    {ErrorCode::kInternal, "internal_error", 500},
    {ErrorCode::kInvalidConfig, "invalid_config", 400},
    {ErrorCode::kUnauthorizedAdmin, "invalid_admin_token", 401},
    {ErrorCode::kTopicNotFound, "topic_not_found", 404},
    {ErrorCode::kPartitionNotFound, "partition_not_found", 404},
    {ErrorCode::kKafkaNotAuthorized, "kafka_not_authorized", 403},
    {ErrorCode::kRecordTooLarge, "record_too_large", 413},
    {ErrorCode::kInvalidRecord, "invalid_record", 422},
    {ErrorCode::kRequestTimeout, "request_timeout", 408},
    {ErrorCode::kTooManyConnections, "too_many_connections", 503, 1},
    {ErrorCode::kServerBusy, "server_busy", 503, 1},
    {ErrorCode::kUnsupportedMediaType, "unsupported_media_type", 415},
    {ErrorCode::kUnsupportedEncoding, "unsupported_content_encoding", 415},
    {ErrorCode::kSchemaNotSupported, "schema_format_not_supported", 422},
    {ErrorCode::kIdempotencyKeyReused, "idempotency_key_reused", 422},
    {ErrorCode::kIdempotencyInProgress, "idempotency_in_progress", 409, 1},
    {ErrorCode::kClusterNotFound, "cluster_not_found", 404},
}};

// Rows must sit at the index of their code so lookups are a plain index.
constexpr bool table_is_in_code_order() {
  for (std::size_t i = 0; i < kErrorTable.size(); ++i) {
    if (static_cast<std::size_t>(kErrorTable[i].code) != i) return false;
  }
  return true;
}
static_assert(table_is_in_code_order(), "kErrorTable rows must follow ErrorCode order");

const ErrorRow& row(ErrorCode code) {
  auto index = static_cast<std::size_t>(code);
  if (index >= kErrorTable.size()) index = static_cast<std::size_t>(ErrorCode::kInternal);
  return kErrorTable[index];
}

}  // namespace

std::string_view error_name(ErrorCode code) { return row(code).name; }

int error_http_status(ErrorCode code) { return row(code).http_status; }

std::uint32_t error_retry_after_s(ErrorCode code) { return row(code).retry_after_s; }

}  // namespace intake
