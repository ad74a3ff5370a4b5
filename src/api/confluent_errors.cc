#include "api/confluent_errors.h"

#include "json/writer.h"

namespace intake::api {

std::uint32_t confluent_error_code(const Error& error) {
  switch (error.code) {
    case ErrorCode::kMissingApiKey:
    case ErrorCode::kInvalidApiKey:
    case ErrorCode::kKeyExpired:
    case ErrorCode::kSignatureRequired:
    case ErrorCode::kInvalidSignature:
    case ErrorCode::kSignatureExpired:
    case ErrorCode::kSignatureReplayed:
      return 40101;
    case ErrorCode::kKeyDisabled:
    case ErrorCode::kTopicNotAllowed:
    case ErrorCode::kKafkaNotAuthorized:
      return 40301;
    case ErrorCode::kTopicNotFound:
      return 40401;
    case ErrorCode::kPartitionNotFound:
      return 40402;
    case ErrorCode::kRateLimited:
    case ErrorCode::kBackpressure:
      return 42901;
    case ErrorCode::kKafkaUnavailable:
    case ErrorCode::kShuttingDown:
      return 50302;
    default:
      return static_cast<std::uint32_t>(error_http_status(error.code));
  }
}

std::uint32_t confluent_record_error_code(const Error& error, bool retriable) {
  if (retriable && error.code != ErrorCode::kTopicNotFound && error.code != ErrorCode::kPartitionNotFound) return 50003;
  switch (error.code) {
    case ErrorCode::kTopicNotFound:
      return 40401;
    case ErrorCode::kPartitionNotFound:
      return 40402;
    case ErrorCode::kBackpressure:
    case ErrorCode::kKafkaUnavailable:
    case ErrorCode::kDeliveryTimeout:
    case ErrorCode::kShuttingDown:
      return 50003;  // Confluent's "retriable Kafka error"
    default:
      return 50002;  // Confluent's "Kafka error"
  }
}

http::Response confluent_error_response(const Error& error, std::string_view media_type) {
  http::Response response = http::error_response(error);  // status and Retry-After
  response.body.clear();
  json::Writer(response.body)
      .begin_object()
      .field("error_code", confluent_error_code(error))
      .field("message", error.message)
      .field("code", error_name(error.code))
      .end_object();
  response.content_type = media_type;
  return response;
}

http::Response confluent_v3_error_response(const Error& error) {
  http::Response response = http::error_response(error);  // status and Retry-After
  response.body.clear();
  json::Writer(response.body)
      .begin_object()
      .field("error_code", response.status)
      .field("message", error.message)
      .field("code", error_name(error.code))
      .end_object();
  response.content_type = "application/json";
  return response;
}

}  // namespace intake::api
