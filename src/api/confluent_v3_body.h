// Confluent REST Proxy v3 produce bodies decoded into records. One record:
//   {"partition_id":1, "headers":[{"name":"h","value":"<base64>"}],
//    "key":{"type":"BINARY","data":"<base64>"}, "value":{"type":"JSON","data":{...}},
//    "timestamp":"2021-02-05T19:14:42Z"}
// and a batch, {"entries":[{"id":"1", <the same members>}, ...]}. All members but value (and a
// batch entry's id) are optional; any other member is refused.
//
// Key and value types: BINARY (data is a base64 string, produced as the bytes it encodes),
// JSON (data is any JSON, produced as its minified text) and STRING (data is a string,
// produced as its UTF-8 bytes). `type` is required: Confluent's proxy without a type
// serializes with the topic's schema, and Intake has no schema registry — for the same reason
// the schema forms (types AVRO, PROTOBUF, JSONSCHEMA, or schema_id, schema_version, subject,
// subject_name_strategy) are refused with schema_format_not_supported (422). A null or absent
// key (or key data) produces no key; a null or absent value is refused (Intake's sink has no
// tombstones). Header values are base64 (null = empty); names starting with intake- are the
// gateway's and refused. Timestamps are RFC 3339 (a `Z` or ±HH:MM offset, optional fraction).
//
// A batch is decoded whole before any record is produced: one bad entry refuses the request,
// its error naming the entry ("entries[2] (id \"7\"): ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/batch_decoder.h"

namespace intake::api {

// How a key or value was sent; answers echo it with the produced size.
enum class ConfluentDataType : std::uint8_t { kBinary, kJson, kString };

// "BINARY", "JSON" or "STRING".
std::string_view confluent_data_type_name(ConfluentDataType type);

struct ConfluentV3Record {
  std::string id;  // batch entries only
  DecodedRecord record;
  std::optional<ConfluentDataType> key_type;  // absent: no key was sent
  ConfluentDataType value_type = ConfluentDataType::kBinary;
  std::int64_t timestamp_ms = 0;  // 0 = none given (Kafka stamps it)
};

struct ConfluentV3Batch {
  std::vector<ConfluentV3Record> entries;  // in body order
  std::size_t value_bytes = 0;             // sum of the values' sizes, for the byte rate
};

// One record (POST .../records). Errors: bad_request, empty_body, payload_too_large (the
// record limit), schema_format_not_supported.
Result<ConfluentV3Record> decode_confluent_v3_record(std::string_view body, const RecordLimit& limit);

// A batch (POST .../records:batch): ids must be unique non-empty strings; at most
// `limits.max_records` entries.
Result<ConfluentV3Batch> decode_confluent_v3_batch(std::string_view body, const BatchLimits& limits);

// Milliseconds since the Unix epoch for an RFC 3339 date-time such as
// "2021-02-05T19:14:42Z", "2021-02-05T19:14:42.123Z" or "2021-02-05T21:14:42+02:00" (digits
// past milliseconds are dropped); nullopt for anything else or a time before 1970.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

// "2021-02-05T19:14:42.000Z" for `unix_ms` (UTC, always milliseconds).
std::string format_rfc3339_ms(std::int64_t unix_ms);

}  // namespace intake::api
