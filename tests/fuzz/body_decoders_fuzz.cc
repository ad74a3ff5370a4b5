// Produce-request bodies: native NDJSON and JSON arrays (api/batch_decoder.h), Confluent v2
// (api/confluent_v2_body.h) and v3 bodies, one record or a batch (api/confluent_v3_body.h),
// the streaming object splitter (api/object_splitter.h) and RFC 3339 timestamps. The first
// byte picks the decoder. Checks the limits (record count, value size) and that what a
// decoder reports adds up.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/batch_decoder.h"
#include "api/confluent_v2_body.h"
#include "api/confluent_v3_body.h"
#include "api/object_splitter.h"
#include "fuzz_input.h"

namespace {

using namespace intake;

constexpr std::size_t kMaxValueBytes = 4096;
constexpr std::size_t kMaxRecords = 64;

void check_batch(const api::DecodedBatch& batch, const api::BatchLimits& limits) {
  FUZZ_CHECK(!batch.records.empty());
  FUZZ_CHECK(batch.records.size() <= limits.max_records);
  std::size_t value_bytes = 0;
  for (const auto& record : batch.records) {
    FUZZ_CHECK(!record.value.empty());
    FUZZ_CHECK(record.value.size() <= kMaxValueBytes);
    FUZZ_CHECK(record.partition >= -1);
    FUZZ_CHECK(record.headers.size() <= api::kMaxRecordHeaders);
    for (const auto& [name, value] : record.headers) FUZZ_CHECK(!api::reserved_header(name));
    value_bytes += record.value.size();
  }
  FUZZ_CHECK(value_bytes == batch.value_bytes);
}

void check_v3(const api::ConfluentV3Record& entry) {
  FUZZ_CHECK(!entry.record.value.empty());
  FUZZ_CHECK(entry.record.value.size() <= kMaxValueBytes);
  FUZZ_CHECK(entry.timestamp_ms >= 0);
  for (const auto& [name, value] : entry.record.headers) FUZZ_CHECK(!api::reserved_header(name));
  if (entry.timestamp_ms > 0) {
    FUZZ_CHECK(api::parse_rfc3339_ms(api::format_rfc3339_ms(entry.timestamp_ms)) == entry.timestamp_ms);
  }
}

void split_stream(std::string_view body, std::size_t step) {
  api::ObjectSplitter splitter(kMaxValueBytes);
  std::string buffer;
  std::size_t fed = 0;
  while (true) {
    auto next = splitter.next(buffer);
    if (!next) return;
    if (next.value()) {
      const std::size_t length = *next.value();
      FUZZ_CHECK(length > 0 && length <= buffer.size());
      // The splitter counts brackets without matching them (the parser refuses {"a":[}]).
      FUZZ_CHECK(buffer[length - 1] == '}' || buffer[length - 1] == ']');
      const api::RecordLimit limit{"t", kMaxValueBytes};
      if (auto record = api::decode_confluent_v3_record(std::string_view(buffer).substr(0, length), limit)) {
        check_v3(record.value());
      }
      buffer.erase(0, length);
      continue;
    }
    if (fed == body.size()) return;
    const std::size_t take = std::min(step, body.size() - fed);
    buffer.append(body.substr(fed, take));
    fed += take;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.take_byte();
  const std::string_view body = input.rest();
  api::BatchLimits limits;
  limits.record = api::RecordLimit{"t", kMaxValueBytes};
  limits.max_records = kMaxRecords;

  switch (selector % 9) {
    case 0:
      if (auto batch = api::decode_ndjson(body, limits)) check_batch(batch.value(), limits);
      break;
    case 1:
      if (auto batch = api::decode_json_array(body, limits)) check_batch(batch.value(), limits);
      break;
    case 2:
      if (auto batch = api::decode_batch(body, limits)) check_batch(batch.value(), limits);
      break;
    case 3:
    case 4: {
      api::ConfluentV2Limits v2{limits, (selector & 0x10) != 0 ? 1 : -1};
      const auto format = selector % 9 == 3 ? api::ConfluentFormat::kJson : api::ConfluentFormat::kBinary;
      if (auto batch = api::decode_confluent_v2(body, format, v2)) {
        check_batch(batch.value(), limits);
        if (v2.path_partition >= 0) {
          for (const auto& record : batch->records) FUZZ_CHECK(record.partition == -1 || record.partition == 1);
        }
      }
      break;
    }
    case 5:
      if (auto record = api::decode_confluent_v3_record(body, limits.record)) check_v3(record.value());
      break;
    case 6:
      if (auto batch = api::decode_confluent_v3_batch(body, limits)) {
        FUZZ_CHECK(!batch->entries.empty() && batch->entries.size() <= kMaxRecords);
        std::size_t value_bytes = 0;
        for (const auto& entry : batch->entries) {
          check_v3(entry);
          FUZZ_CHECK(!entry.id.empty());
          value_bytes += entry.record.value.size();
        }
        FUZZ_CHECK(value_bytes == batch->value_bytes);
      }
      break;
    case 7:
      split_stream(body, 1 + selector / 9 % 16);
      break;
    case 8:
      if (auto ms = api::parse_rfc3339_ms(body)) {
        FUZZ_CHECK(*ms >= 0);
        FUZZ_CHECK(api::parse_rfc3339_ms(api::format_rfc3339_ms(*ms)) == *ms);
      }
      break;
  }
  return 0;
}
