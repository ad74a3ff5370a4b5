// Turns an OutgoingRecord into the spool's payload bytes and back (layout in log_format.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "error/result.h"
#include "kafka/record_sink.h"

namespace intake::spool {

// A record read back from the spool. Views point into the buffer it was decoded from.
struct DecodedRecord {
  std::string_view topic;
  std::string_view key;
  std::string_view value;
  std::int32_t partition = -1;
  std::vector<kafka::RecordHeader> headers;

  // The record to produce; `headers` must stay alive while it is used.
  kafka::OutgoingRecord outgoing() const;
};

// Bytes encode() appends for this record.
std::size_t encoded_size(const kafka::OutgoingRecord& record);

// Appends the payload to `out`.
void encode(const kafka::OutgoingRecord& record, std::string& out);

// Parses a payload; `out.headers` is reused. Fails on a truncated or unknown payload.
Result<void> decode(std::string_view payload, DecodedRecord& out);

}  // namespace intake::spool
