// NDJSON batch bodies (POST /v1/topics/{topic}/records) decoded into records.
//
// One record per line, each a JSON object {"value": <string, or any JSON kept as is>,
// "key": "...", "partition": N}; key and partition are optional and any other field is refused.
// Lines end in LF or CRLF; a line of only spaces and tabs is skipped but still counted, so line
// numbers in errors are the ones the client's editor shows. The whole body is decoded before
// any record is produced, so one bad line rejects the batch whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/record_limit.h"
#include "error/result.h"

namespace intake::api {

// NDJSON batches hold at most this many records (the body limit bounds them too).
inline constexpr std::size_t kMaxBatchRecords = 10'000;

// One line turned into a record. Owns its bytes: the JSON parser reuses its buffers.
struct NdjsonRecord {
  std::string key;
  std::string value;
  std::int32_t partition = -1;  // -1 = the producer's partitioner decides
};

struct NdjsonBatch {
  std::vector<NdjsonRecord> records;  // in body order
  std::size_t value_bytes = 0;        // sum of the values' sizes, for the byte rate
};

struct NdjsonLimits {
  RecordLimit record;  // checked on every value
  std::size_t max_records = kMaxBatchRecords;
};

// Returns every record of `body`, or the first problem in body order: bad_request for a line
// that is not a record object ("line N: ..." says what to fix), empty_body for an empty value
// or a body without any record, payload_too_large when a value or the count is over a limit.
// Safe from any thread: each thread parses with its own reused parser.
Result<NdjsonBatch> decode_ndjson(std::string_view body, const NdjsonLimits& limits);

}  // namespace intake::api
