// Native batch bodies (POST /v1/topics/{topic}/records) decoded into records: NDJSON (one
// record per line) or a JSON array of the same objects — a body whose first non-blank byte is
// `[` is an array.
//
// Each record is a JSON object {"value": <string, or any JSON kept as is>, "key": "...",
// "partition": N, "headers": {"name": "value", ...}, "headers_encoding": "base64"}; all but
// value are optional and any other field is refused. Header values are strings, taken as they
// are, or base64 decoded when headers_encoding is "base64" (binary header values); names
// starting with `intake-` are the gateway's and refused. NDJSON
// lines end in LF or CRLF; a line of only spaces and tabs is skipped but still counted, so
// line numbers in errors are the ones the client's editor shows; array errors name the
// record's 1-based index. The whole body is decoded before any record is produced, so one bad
// record rejects the batch whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/record_limit.h"
#include "error/result.h"

namespace intake::api {

// NDJSON batches hold at most this many records (the body limit bounds them too).
inline constexpr std::size_t kMaxBatchRecords = 10'000;

// At most this many headers per record (beside the ones Intake adds).
inline constexpr std::size_t kMaxRecordHeaders = 32;

// One record of the body. Owns its bytes: the JSON parser reuses its buffers.
struct DecodedRecord {
  std::string key;
  std::string value;
  std::int32_t partition = -1;                               // -1 = the producer's partitioner decides
  std::vector<std::pair<std::string, std::string>> headers;  // name, value; in body order
};

struct DecodedBatch {
  std::vector<DecodedRecord> records;  // in body order
  std::size_t value_bytes = 0;         // sum of the values' sizes, for the byte rate
};

struct BatchLimits {
  RecordLimit record;  // checked on every value
  std::size_t max_records = kMaxBatchRecords;
};

// True iff `name` starts with `intake-` (any case): Intake's own record headers (intake-key-id,
// ...) must be trustworthy to consumers, so clients cannot set them.
bool reserved_header(std::string_view name);

// Returns every record of `body`, or the first problem in body order: bad_request for a line
// that is not a record object ("line N: ..." says what to fix), empty_body for an empty value
// or a body without any record, payload_too_large when a value or the count is over a limit.
// Safe from any thread: each thread parses with its own reused parser.
Result<DecodedBatch> decode_ndjson(std::string_view body, const BatchLimits& limits);

// The same for a JSON array of record objects; errors say "record N: ...".
Result<DecodedBatch> decode_json_array(std::string_view body, const BatchLimits& limits);

// decode_json_array when the first byte that is not white space is `[`, else decode_ndjson.
Result<DecodedBatch> decode_batch(std::string_view body, const BatchLimits& limits);

}  // namespace intake::api
