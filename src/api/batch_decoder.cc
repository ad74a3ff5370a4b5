#include "api/batch_decoder.h"

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>

#include "encoding/base64.h"

namespace intake::api {
namespace {

Result<void> decode_headers(simdjson::dom::element value, bool base64, std::string_view where, DecodedRecord& record) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest,
                 std::string(where) + R"("headers" must be an object of name: string, e.g. {"trace":"abc"})"};
  }
  for (auto field : object) {
    std::string_view text;
    if (field.value.get_string().get(text) != simdjson::SUCCESS) {
      return Error{ErrorCode::kBadRequest,
                   std::string(where) + "header \"" + std::string(field.key) + "\" must have a string value"};
    }
    if (field.key.empty()) return Error{ErrorCode::kBadRequest, std::string(where) + "a header name is empty"};
    if (reserved_header(field.key)) {
      return Error{ErrorCode::kBadRequest, std::string(where) + "header \"" + std::string(field.key) +
                                               "\": names starting with intake- are set by the gateway"};
    }
    if (record.headers.size() == kMaxRecordHeaders) {
      return Error{ErrorCode::kBadRequest,
                   std::string(where) + "a record has at most " + std::to_string(kMaxRecordHeaders) + " headers"};
    }
    if (base64) {
      auto bytes = encoding::base64_decode(text);
      if (!bytes) {
        return Error{ErrorCode::kBadRequest, std::string(where) + "header \"" + std::string(field.key) +
                                                 "\" is not base64 (headers_encoding is \"base64\")"};
      }
      record.headers.emplace_back(std::string(field.key), std::move(*bytes));
    } else {
      record.headers.emplace_back(std::string(field.key), std::string(text));
    }
  }
  return {};
}

Result<DecodedRecord> decode_record(simdjson::dom::element root, std::string_view where,
                                    std::string_view what_it_must_be) {
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, std::string(where) + std::string(what_it_must_be)};
  }
  DecodedRecord record;
  bool has_value = false;
  // headers_encoding may come after headers, so headers are decoded once the object is read.
  std::optional<simdjson::dom::element> headers;
  bool base64_headers = false;
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
    } else if (name == "headers") {
      headers = field.value;
    } else if (name == "headers_encoding") {
      std::string_view text;
      if (field.value.get_string().get(text) != simdjson::SUCCESS || (text != "base64" && text != "string")) {
        return Error{ErrorCode::kBadRequest, std::string(where) + R"("headers_encoding" must be "base64" or "string")"};
      }
      base64_headers = text == "base64";
    } else {
      return Error{ErrorCode::kBadRequest, std::string(where) + "unknown field \"" + std::string(name) +
                                               "\" (known: value, key, partition, headers, headers_encoding)"};
    }
  }
  if (headers) {
    if (auto decoded = decode_headers(*headers, base64_headers, where, record); !decoded) {
      return std::move(decoded).error();
    }
  }
  if (!has_value) return Error{ErrorCode::kBadRequest, std::string(where) + "\"value\" is missing"};
  if (record.value.empty()) return Error{ErrorCode::kEmptyBody, std::string(where) + "\"value\" is empty"};
  return record;
}

Result<void> add_record(DecodedBatch& batch, DecodedRecord record, const BatchLimits& limits, std::string_view where) {
  if (auto fits = limits.record.check(record.value.size(), where); !fits) return std::move(fits).error();
  batch.value_bytes += record.value.size();
  batch.records.push_back(std::move(record));
  return {};
}

Error too_many_records(const BatchLimits& limits) {
  return Error{ErrorCode::kPayloadTooLarge,
               "a batch holds at most " + std::to_string(limits.max_records) + " records; split it"};
}

}  // namespace

bool reserved_header(std::string_view name) {
  constexpr std::string_view kPrefix = "intake-";
  if (name.size() < kPrefix.size()) return false;
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {
    const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
    if (c != kPrefix[i]) return false;
  }
  return true;
}

Result<DecodedBatch> decode_ndjson(std::string_view body, const BatchLimits& limits) {
  thread_local simdjson::dom::parser parser;
  DecodedBatch batch;
  std::size_t line_number = 0;
  for (std::string_view rest = body; !rest.empty();) {
    const auto newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank lines are allowed
    if (batch.records.size() == limits.max_records) return too_many_records(limits);
    const std::string where = "line " + std::to_string(line_number) + ": ";
    simdjson::dom::element root;
    if (parser.parse(line.data(), line.size()).get(root) != simdjson::SUCCESS) {
      return Error{ErrorCode::kBadRequest, where + "not valid JSON; each line must be one JSON object"};
    }
    auto record = decode_record(root, where, R"(expected an object such as {"value":"..."})");
    if (!record) return std::move(record).error();
    if (auto added = add_record(batch, std::move(record).value(), limits, where); !added) {
      return std::move(added).error();
    }
  }
  if (batch.records.empty()) {
    return Error{ErrorCode::kEmptyBody, R"(the batch holds no record; send one {"value":...} per line)"};
  }
  return batch;
}

Result<DecodedBatch> decode_json_array(std::string_view body, const BatchLimits& limits) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array array;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root.get_array().get(array) != simdjson::SUCCESS) {
    return Error{ErrorCode::kBadRequest, R"(the body is not a valid JSON array; send [{"value":...}, ...] or NDJSON)"};
  }
  DecodedBatch batch;
  std::size_t index = 0;
  for (simdjson::dom::element element : array) {
    if (batch.records.size() == limits.max_records) return too_many_records(limits);
    const std::string where = "record " + std::to_string(++index) + ": ";
    auto record = decode_record(element, where, R"(expected an object such as {"value":"..."})");
    if (!record) return std::move(record).error();
    if (auto added = add_record(batch, std::move(record).value(), limits, where); !added) {
      return std::move(added).error();
    }
  }
  if (batch.records.empty()) {
    return Error{ErrorCode::kEmptyBody, R"(the array holds no record; send [{"value":...}, ...])"};
  }
  return batch;
}

Result<DecodedBatch> decode_batch(std::string_view body, const BatchLimits& limits) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '[') return decode_json_array(body, limits);
  return decode_ndjson(body, limits);
}

}  // namespace intake::api
