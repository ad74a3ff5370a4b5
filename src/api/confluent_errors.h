// Errors as Confluent REST Proxy clients read them: {"error_code":40401,"message":"..."}, the
// numeric codes their client libraries switch on, with Intake's stable `code` name beside them
// (an extra member those clients ignore). The table from Intake codes to Confluent codes is
// here and nowhere else.
#pragma once

#include <cstdint>
#include <string_view>

#include "error/error.h"
#include "http/message.h"

namespace intake::api {

// The media type every Confluent v2 answer carries.
inline constexpr std::string_view kConfluentV2MediaType = "application/vnd.kafka.v2+json";

// Confluent's numeric code for a request-level error: 40101 authentication, 40301
// authorization, 40401 topic, 40402 partition, 42901 rate, 50302 Kafka unavailable, ...; the
// HTTP status itself where Confluent has no finer code.
std::uint32_t confluent_error_code(const Error& error);

// Confluent's numeric code for one record Kafka did not take (v2 "offsets" entries, v3
// reports): 40401 / 40402 when the topic or partition does not exist, 50003 when retrying can
// help (`retriable`, or an error that says so), else 50002.
std::uint32_t confluent_record_error_code(const Error& error, bool retriable);

// The error with its HTTP status and Retry-After, in Confluent's body, as `media_type`.
http::Response confluent_error_response(const Error& error, std::string_view media_type);

// The same in v3 form, as application/json: Confluent's v3 API puts the HTTP status itself in
// error_code ({"error_code":404,"message":"...","code":"cluster_not_found"}).
http::Response confluent_v3_error_response(const Error& error);

}  // namespace intake::api
