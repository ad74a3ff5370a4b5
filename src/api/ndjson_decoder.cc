#include "api/ndjson_decoder.h"

#include <simdjson.h>

#include <cstdint>

namespace intake::api {
namespace {

Result<NdjsonRecord> decode_line(simdjson::dom::parser& parser, std::string_view line, std::string_view where) {
  simdjson::dom::element root;
  if (parser.parse(line.data(), line.size()).get(root) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, std::string(where) + "not valid JSON; each line must be one JSON object"};
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, std::string(where) + R"(expected an object such as {"value":"..."})"};
  }
  NdjsonRecord record;
  bool has_value = false;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "value") {
      has_value = true;
      std::string_view text;
      if (field.value.get_string().get(text) == simdjson::SUCCESS) {
        record.value = text;
      } else {
        record.value = simdjson::minify(field.value);  // any other JSON value is the record as is
      }
    } else if (name == "key") {
      std::string_view text;
      if (field.value.get_string().get(text) != simdjson::SUCCESS) {
        return Error{ErrorCode::kBadRequest, std::string(where) + "\"key\" must be a string"};
      }
      record.key = text;
    } else if (name == "partition") {
      std::int64_t partition = -1;
      if (field.value.get_int64().get(partition) != simdjson::SUCCESS || partition < 0 || partition > INT32_MAX) {
        return Error{ErrorCode::kBadRequest,
                     std::string(where) + "\"partition\" must be a partition number (0 or more)"};
      }
      record.partition = static_cast<std::int32_t>(partition);
    } else {
      return Error{ErrorCode::kBadRequest,
                   std::string(where) + "unknown field \"" + std::string(name) + "\" (known: value, key, partition)"};
    }
  }
  if (!has_value) return Error{ErrorCode::kBadRequest, std::string(where) + "\"value\" is missing"};
  if (record.value.empty()) return Error{ErrorCode::kEmptyBody, std::string(where) + "\"value\" is empty"};
  return record;
}

}  // namespace

Result<NdjsonBatch> decode_ndjson(std::string_view body, const NdjsonLimits& limits) {
  thread_local simdjson::dom::parser parser;
  NdjsonBatch batch;
  std::size_t line_number = 0;
  for (std::string_view rest = body; !rest.empty();) {
    const auto newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are allowed
    if (batch.records.size() == limits.max_records) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "a batch holds at most " + std::to_string(limits.max_records) + " records; split it"};
    }
    const std::string where = "line " + std::to_string(line_number) + ": ";
    auto record = decode_line(parser, line, where);
    if (!record) return std::move(record).error();
    if (auto fits = limits.record.check(record.value().value.size(), where); !fits) return std::move(fits).error();
    batch.value_bytes += record.value().value.size();
    batch.records.push_back(std::move(record).value());
  }
  if (batch.records.empty()) {
    return Error{ErrorCode::kEmptyBody, R"(the batch holds no record; send one {"value":...} per line)"};
  }
  return batch;
}

}  // namespace intake::api
