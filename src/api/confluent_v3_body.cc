#include "api/confluent_v3_body.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <set>

#include "encoding/base64.h"

namespace intake::api {
namespace {

Error bad(std::string_view where, const std::string& what) {
  return Error{ErrorCode::kBadRequest, std::string(where) + what};
}

Error schema_form(std::string_view where, std::string_view member) {
  return Error{ErrorCode::kSchemaNotSupported,
               std::string(where) + "\"" + std::string(member) +
                   "\": Intake has no schema registry and does not produce Avro, Protobuf or JSON Schema data; send "
                   "\"type\":\"BINARY\", \"JSON\" or \"STRING\""};
}

// A key or value object {"type":...,"data":...} into `out`; false when its data is null or absent.
Result<bool> decode_data(simdjson::dom::element element, std::string_view where, std::string_view member,
                         ConfluentDataType& type, std::string& out) {
  const std::string at = std::string(where) + "\"" + std::string(member) + "\": ";
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return bad(at, R"(expected an object such as {"type":"BINARY","data":"<base64>"})");
  }
  std::optional<std::string_view> type_name;
  std::optional<simdjson::dom::element> data;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "type") {
      std::string_view text;
      if (field.value.get_string().get(text) != simdjson::SUCCESS) {
        return bad(at, R"("type" must be "BINARY", "JSON" or "STRING")");
      }
      type_name = text;
    } else if (name == "data") {
      data = field.value;
    } else if (name == "schema_id" || name == "schema_version" || name == "subject" ||
               name == "subject_name_strategy" || name == "schema_type") {
      return schema_form(at, name);
    } else {
      return bad(at, "unknown field \"" + std::string(name) + "\" (known: type, data)");
    }
  }
  if (!type_name) return bad(at, R"("type" is missing; send "BINARY", "JSON" or "STRING")");
  if (*type_name == "BINARY") {
    type = ConfluentDataType::kBinary;
  } else if (*type_name == "JSON") {
    type = ConfluentDataType::kJson;
  } else if (*type_name == "STRING") {
    type = ConfluentDataType::kString;
  } else if (*type_name == "AVRO" || *type_name == "PROTOBUF" || *type_name == "JSONSCHEMA") {
    return schema_form(at, *type_name);
  } else {
    return bad(at, "unknown type \"" + std::string(*type_name) + R"(" (known: "BINARY", "JSON", "STRING"))");
  }
  if (!data || data->is_null()) return false;
  if (type == ConfluentDataType::kJson) {
    out = simdjson::minify(*data);
    return true;
  }
  std::string_view text;
  if (data->get_string().get(text) != simdjson::SUCCESS) {
    return bad(at, type == ConfluentDataType::kBinary ? R"("data" must be a base64 string for type BINARY)"
                                                      : R"("data" must be a string for type STRING)");
  }
  if (type == ConfluentDataType::kString) {
    out = std::string(text);
    return true;
  }
  auto bytes = encoding::base64_decode(text);
  if (!bytes) return bad(at, R"("data" is not valid base64 (standard alphabet, with padding))");
  out = std::move(*bytes);
  return true;
}

Result<void> decode_headers(simdjson::dom::element element, std::string_view where, DecodedRecord& record) {
  if (element.is_null()) return {};
  simdjson::dom::array headers;
  if (element.get_array().get(headers) != simdjson::SUCCESS) {
    return bad(where, R"("headers" must be an array of {"name":"...","value":"<base64>"})");
  }
  std::size_t index = 0;
  for (simdjson::dom::element header : headers) {
    const std::string at = std::string(where) + "headers[" + std::to_string(index++) + "]: ";
    simdjson::dom::object object;
    if (header.get_object().get(object) != simdjson::SUCCESS) {
      return bad(at, R"(expected an object {"name":"...","value":"<base64>"})");
    }
    std::optional<std::string_view> name;
    std::string value;
    for (auto field : object) {
      if (field.key == "name") {
        std::string_view text;
        if (field.value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
          return bad(at, R"("name" must be a non-empty string)");
        }
        name = text;
      } else if (field.key == "value") {
        if (field.value.is_null()) continue;
        std::string_view text;
        std::optional<std::string> bytes;
        if (field.value.get_string().get(text) == simdjson::SUCCESS) bytes = encoding::base64_decode(text);
        if (!bytes) return bad(at, R"("value" must be a base64 string (or null))");
        value = std::move(*bytes);
      } else {
        return bad(at, "unknown field \"" + std::string(field.key) + "\" (known: name, value)");
      }
    }
    if (!name) return bad(at, R"("name" is missing)");
    if (reserved_header(*name)) {
      return bad(at, "header \"" + std::string(*name) + "\": names starting with intake- are set by the gateway");
    }
    if (record.headers.size() == kMaxRecordHeaders) {
      return bad(where, "a record has at most " + std::to_string(kMaxRecordHeaders) + " headers");
    }
    record.headers.emplace_back(std::string(*name), std::move(value));
  }
  return {};
}

// The members a record object may have; `id` only in batch entries.
Result<ConfluentV3Record> decode_entry(simdjson::dom::element element, std::string_view where, bool batch_entry,
                                       const RecordLimit& limit) {
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    return bad(where, R"(expected an object such as {"value":{"type":"JSON","data":...}})");
  }
  ConfluentV3Record out;
  bool has_value = false;
  bool has_id = false;
  for (auto field : object) {
    const std::string_view name = field.key;
    if (name == "value") {
      if (field.value.is_null()) continue;
      auto present = decode_data(field.value, where, name, out.value_type, out.record.value);
      if (!present) return std::move(present).error();
      has_value = present.value();
    } else if (name == "key") {
      if (field.value.is_null()) continue;
      ConfluentDataType type{};
      auto present = decode_data(field.value, where, name, type, out.record.key);
      if (!present) return std::move(present).error();
      if (present.value()) out.key_type = type;
    } else if (name == "partition_id") {
      if (field.value.is_null()) continue;
      std::int64_t partition = -1;
      if (field.value.get_int64().get(partition) != simdjson::SUCCESS || partition < 0 || partition > INT32_MAX) {
        return bad(where, R"("partition_id" must be a partition number (0 or more))");
      }
      out.record.partition = static_cast<std::int32_t>(partition);
    } else if (name == "headers") {
      if (auto headers = decode_headers(field.value, where, out.record); !headers) return std::move(headers).error();
    } else if (name == "timestamp") {
      if (field.value.is_null()) continue;
      std::string_view text;
      std::optional<std::int64_t> parsed;
      if (field.value.get_string().get(text) == simdjson::SUCCESS) parsed = parse_rfc3339_ms(text);
      if (!parsed) {
        return bad(where, R"("timestamp" must be an RFC 3339 date-time such as "2021-02-05T19:14:42.000Z")");
      }
      // 0 means "none" to the producer: the epoch's first millisecond is stamped as 1.
      out.timestamp_ms = *parsed == 0 ? 1 : *parsed;
    } else if (batch_entry && name == "id") {
      std::string_view text;
      if (field.value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
        return bad(where, R"("id" must be a non-empty string)");
      }
      out.id = std::string(text);
      has_id = true;
    } else {
      return bad(where, "unknown field \"" + std::string(name) + "\" (known: " + (batch_entry ? "id, " : "") +
                            "partition_id, headers, key, value, timestamp)");
    }
  }
  if (batch_entry && !has_id) return bad(where, R"("id" is missing; each entry needs a unique string id)");
  if (!has_value) {
    return bad(where, R"("value" is missing or null; Intake does not produce null values (tombstones))");
  }
  if (out.record.value.empty()) return Error{ErrorCode::kEmptyBody, std::string(where) + "\"value\" is empty"};
  if (auto fits = limit.check(out.record.value.size(), where); !fits) return std::move(fits).error();
  return out;
}

bool parse_digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string_view confluent_data_type_name(ConfluentDataType type) {
  switch (type) {
    case ConfluentDataType::kBinary:
      return "BINARY";
    case ConfluentDataType::kJson:
      return "JSON";
    case ConfluentDataType::kString:
      return "STRING";
  }
  return "BINARY";
}

Result<ConfluentV3Record> decode_confluent_v3_record(std::string_view body, const RecordLimit& limit) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return bad("", R"(the body must be a JSON object such as {"value":{"type":"JSON","data":...}})");
  }
  return decode_entry(root, "", false, limit);
}

Result<ConfluentV3Batch> decode_confluent_v3_batch(std::string_view body, const BatchLimits& limits) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS ||
      root.get_object().get(object) != simdjson::SUCCESS) {
    return bad("", R"(the body must be a JSON object {"entries":[{"id":"1","value":{...}}, ...]})");
  }
  simdjson::dom::array entries;
  bool has_entries = false;
  for (auto field : object) {
    if (field.key != "entries") return bad("", "unknown field \"" + std::string(field.key) + "\" (known: entries)");
    if (field.value.get_array().get(entries) != simdjson::SUCCESS) {
      return bad("", R"("entries" must be an array of {"id":"...","value":{...}})");
    }
    has_entries = true;
  }
  if (!has_entries) return bad("", R"("entries" is missing; send {"entries":[{"id":"1","value":{...}}]})");
  ConfluentV3Batch batch;
  std::set<std::string, std::less<>> ids;
  std::size_t index = 0;
  for (simdjson::dom::element element : entries) {
    if (batch.entries.size() == limits.max_records) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "a request holds at most " + std::to_string(limits.max_records) + " entries; split it"};
    }
    std::string where = "entries[" + std::to_string(index++) + "]";
    std::string_view id;
    if (element["id"].get_string().get(id) == simdjson::SUCCESS) where += " (id \"" + std::string(id) + "\")";
    where += ": ";
    auto entry = decode_entry(element, where, true, limits.record);
    if (!entry) return std::move(entry).error();
    if (!ids.insert(entry->id).second) return bad(where, "\"id\" is used by an earlier entry; ids must be unique");
    batch.value_bytes += entry->record.value.size();
    batch.entries.push_back(std::move(entry).value());
  }
  if (batch.entries.empty()) return Error{ErrorCode::kEmptyBody, R"("entries" is empty; send at least one entry)"};
  return batch;
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !parse_digits(text, 5, 2, month) ||
      text[7] != '-' || !parse_digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't') ||
      !parse_digits(text, 11, 2, hour) || text[13] != ':' || !parse_digits(text, 14, 2, minute) || text[16] != ':' ||
      !parse_digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: a leap second
  std::size_t at = 19;
  int millis = 0;
  if (text[at] == '.') {
    const std::size_t start = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (at - start < 3) millis = millis * 10 + (text[at] - '0');
      ++at;
    }
    if (at == start) return std::nullopt;
    for (std::size_t digits = at - start; digits < 3; ++digits) millis *= 10;
  }
  if (at >= text.size()) return std::nullopt;
  int offset_minutes = 0;
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    int offset_hours = 0, offset_mins = 0;
    if (!parse_digits(text, at + 1, 2, offset_hours) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !parse_digits(text, at + 4, 2, offset_mins) || offset_hours > 23 || offset_mins > 59) {
      return std::nullopt;
    }
    offset_minutes = (offset_hours * 60 + offset_mins) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const std::int64_t seconds =
      days * 86'400 + hour * 3'600 + minute * 60 + std::min(second, 59) - std::int64_t{offset_minutes} * 60;
  if (seconds < 0) return std::nullopt;
  return seconds * 1'000 + millis;
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(unix_ms)};
  const auto days = floor<std::chrono::days>(time);
  const year_month_day date{days};
  const hh_mm_ss clock{time - days};
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

}  // namespace intake::api
