// Confluent REST Proxy v2 produce bodies, {"records":[{"key":…,"value":…,"partition":N}]},
// decoded into records, for the two formats Intake serves:
//   json   (application/vnd.kafka.json.v2+json, or application/json): key and value are any
//          JSON, produced as their JSON text — the string "a" becomes the 3 bytes "a" with its
//          quotes, as the Confluent proxy writes it.
//   binary (application/vnd.kafka.binary.v2+json): key and value are base64 strings, produced
//          as the bytes they encode.
// A null or absent key produces no key. A null value (a tombstone) is refused: Intake's sink
// has no null values. key_schema / value_schema(_id) members are ignored (they mean nothing
// for these formats); any other member is refused.
#pragma once

#include <cstdint>
#include <string_view>

#include "api/batch_decoder.h"

namespace intake::api {

enum class ConfluentFormat : std::uint8_t { kJson, kBinary };

struct ConfluentV2Limits {
  BatchLimits batch;
  // The partition of a /topics/{topic}/partitions/{partition} request (-1: none); a record
  // naming another one is refused.
  std::int32_t path_partition = -1;
};

// Errors name the record ("records[2]: ...", 0-based as in the JSON) and say what to fix.
Result<DecodedBatch> decode_confluent_v2(std::string_view body, ConfluentFormat format,
                                         const ConfluentV2Limits& limits);

}  // namespace intake::api
