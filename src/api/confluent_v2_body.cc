#include "api/confluent_v2_body.h"

#include <simdjson.h>

#include <optional>
#include <string>

#include "encoding/base64.h"

namespace intake::api {
namespace {

// One key or value in the request's format into `out`; false when it is null.
Result<bool> decode_data(simdjson::dom::element data, ConfluentFormat format, std::string_view where,
                         std::string_view member, std::string& out) {
  if (data.is_null()) return false;
  if (format == ConfluentFormat::kJson) {
    out = simdjson::minify(data);
    return true;
  }
  std::string_view text;
  std::optional<std::string> bytes;
  if (data.get_string().get(text) == simdjson::SUCCESS) bytes = encoding::base64_decode(text);
  if (!bytes) {
    return Error{ErrorCode::kBadRequest,
                 std::string(where) + "\"" + std::string(member) + "\" must be a base64 string (the binary format)"};
  }
  out = std::move(*bytes);
  return true;
}

Result<DecodedRecord> decode_entry(simdjson::dom::element entry, ConfluentFormat format, std::string_view where,
                                   std::int32_t path_partition) {
  simdjson::dom::object object;
  if (entry.get_object().get(object) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, std::string(where) + R"(expected an object such as {"value":...})"};
  }
  DecodedRecord record;
  record.partition = path_partition;
  bool has_value = false;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "value") {
      auto present = decode_data(field.value, format, where, name, record.value);
      if (!present) return std::move(present).error();
      if (!present.value()) {
        return Error{ErrorCode::kBadRequest,
                     std::string(where) + "\"value\" is null; Intake does not produce null values (tombstones)"};
      }
      has_value = true;
    } else if (name == "key") {
      auto present = decode_data(field.value, format, where, name, record.key);
      if (!present) return std::move(present).error();
    } else if (name == "partition") {
      if (field.value.is_null()) continue;
      std::int64_t partition = -1;
      if (field.value.get_int64().get(partition) != simdjson::SUCCESS || partition < 0 || partition > INT32_MAX) {
        return Error{ErrorCode::kBadRequest,
                     std::string(where) + "\"partition\" must be a partition number (0 or more)"};
      }
      if (path_partition >= 0 && partition != path_partition) {
        return Error{ErrorCode::kBadRequest,
                     std::string(where) + "\"partition\" differs from the partition in the path; leave it out"};
      }
      record.partition = static_cast<std::int32_t>(partition);
    } else {
      return Error{ErrorCode::kBadRequest,
                   std::string(where) + "unknown field \"" + std::string(name) + "\" (known: key, value, partition)"};
    }
  }
  if (!has_value) return Error{ErrorCode::kBadRequest, std::string(where) + "\"value\" is missing"};
  if (record.value.empty()) return Error{ErrorCode::kEmptyBody, std::string(where) + "\"value\" is empty"};
  return record;
}

}  // namespace

Result<DecodedBatch> decode_confluent_v2(std::string_view body, ConfluentFormat format,
                                         const ConfluentV2Limits& limits) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, R"(the body must be a JSON object {"records":[{"value":...}]})"};
  }
  simdjson::dom::array records;
  bool has_records = false;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "records") {
      if (field.value.get_array().get(records) != simdjson::SUCCESS) {
        return Error{ErrorCode::kBadRequest, R"("records" must be an array of {"key":...,"value":...})"};
      }
      has_records = true;
    } else if (name != "key_schema" && name != "key_schema_id" && name != "value_schema" && name != "value_schema_id") {
      return Error{ErrorCode::kBadRequest, "unknown field \"" + std::string(name) +
                                               "\" (known: records, key_schema, key_schema_id, value_schema, "
                                               "value_schema_id)"};
    }
  }
  if (!has_records) return Error{ErrorCode::kBadRequest, R"("records" is missing; send {"records":[{"value":...}]})"};
  DecodedBatch batch;
  std::size_t index = 0;
  for (simdjson::dom::element entry : records) {
    if (batch.records.size() == limits.batch.max_records) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "a request holds at most " + std::to_string(limits.batch.max_records) + " records; split it"};
    }
    const std::string where = "records[" + std::to_string(index++) + "]: ";
    auto record = decode_entry(entry, format, where, limits.path_partition);
    if (!record) return std::move(record).error();
    if (auto fits = limits.batch.record.check(record.value().value.size(), where); !fits) {
      return std::move(fits).error();
    }
    batch.value_bytes += record.value().value.size();
    batch.records.push_back(std::move(record).value());
  }
  if (batch.records.empty()) return Error{ErrorCode::kEmptyBody, R"("records" is empty; send at least one record)"};
  return batch;
}

}  // namespace intake::api
