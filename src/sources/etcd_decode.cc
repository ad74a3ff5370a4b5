#include "sources/etcd_decode.h"

#include <simdjson.h>

#include <charconv>

#include "encoding/base64.h"

namespace intake::sources {

namespace {

// etcd's gateway writes int64 fields as JSON strings ("revision":"42"); a number is taken too.
// An absent field is 0 (proto3 JSON omits defaults). Returns false for anything else.
bool read_int64(simdjson::dom::object object, std::string_view field, std::int64_t& out) {
  out = 0;
  simdjson::dom::element value;
  if (object[field].get(value) != simdjson::SUCCESS) return true;
  if (value.is_int64()) return value.get_int64().get(out) == simdjson::SUCCESS;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool read_bool(simdjson::dom::object object, std::string_view field) {
  bool value = false;
  return object[field].get_bool().get(value) == simdjson::SUCCESS && value;
}

std::string_view read_string(simdjson::dom::object object, std::string_view field) {
  std::string_view value;
  if (object[field].get_string().get(value) != simdjson::SUCCESS) return {};
  return value;
}

// Decodes the base64 field `field` of `object` (absent = empty). Returns false when the field
// is not a string or not base64.
bool read_base64(simdjson::dom::object object, std::string_view field, std::string& out) {
  out.clear();
  simdjson::dom::element value;
  if (object[field].get(value) != simdjson::SUCCESS || value.is_null()) return true;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  auto decoded = encoding::base64_decode(text);
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

Error etcd_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }

// Reads one {"key","value","mod_revision",...} object of a range answer or watch event, as a
// PUT event.
Result<EtcdEvent> read_kv(simdjson::dom::object kv) {
  EtcdEvent out;
  if (!read_base64(kv, "key", out.key) || out.key.empty()) return etcd_error("a key-value has no valid base64 key");
  if (!read_base64(kv, "value", out.value)) return etcd_error("the value of key '" + out.key + "' is not base64");
  if (!read_int64(kv, "mod_revision", out.mod_revision)) {
    return etcd_error("key '" + out.key + "' has a bad mod_revision");
  }
  return out;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

std::string etcd_prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Result<EtcdRangePage> decode_etcd_range(std::string_view body, const std::string& prefix) {
  EtcdRangePage page;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(body.data(), body.size()).get_object().get(root) != simdjson::SUCCESS) {
    return etcd_error("etcd's range answer is not a JSON object");
  }
  simdjson::dom::object header;
  if (root["header"].get_object().get(header) != simdjson::SUCCESS || !read_int64(header, "revision", page.revision) ||
      page.revision <= 0) {
    return etcd_error("etcd's range answer has no valid header.revision");
  }
  page.more = read_bool(root, "more");
  simdjson::dom::element kvs;
  if (root["kvs"].get(kvs) != simdjson::SUCCESS) return page;  // no key in the range
  simdjson::dom::array items;
  if (kvs.get_array().get(items) != simdjson::SUCCESS) return etcd_error("etcd's range answer has a non-array kvs");
  for (auto item : items) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return etcd_error("etcd's range answer has a kvs entry that is no object");
    }
    auto kv = read_kv(object);
    if (!kv) return std::move(kv).error();
    page.last_key = kv->key;
    if (!starts_with(kv->key, prefix)) continue;
    page.entries.insert_or_assign(kv->key.substr(prefix.size()), std::move(kv->value));
  }
  return page;
}

Result<EtcdWatchMessage> decode_etcd_watch_message(std::string_view json_text) {
  EtcdWatchMessage message;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json_text.data(), json_text.size()).get_object().get(root) != simdjson::SUCCESS) {
    return etcd_error("a watch message is not a JSON object");
  }
  // The gateway reports a failed stream as {"error": {"grpc_code":..,"message":..}} (or a
  // plain string, as unary answers do).
  simdjson::dom::element error;
  if (root["error"].get(error) == simdjson::SUCCESS) {
    std::string_view text;
    simdjson::dom::object details;
    if (error.get_string().get(text) == simdjson::SUCCESS) {
      message.error = text;
    } else if (error.get_object().get(details) == simdjson::SUCCESS) {
      message.error = read_string(details, "message");
    }
    if (message.error.empty()) message.error = "unspecified error";
    return message;
  }
  simdjson::dom::object result;
  if (root["result"].get_object().get(result) != simdjson::SUCCESS) return etcd_error("a watch message has no result");
  simdjson::dom::object header;
  if (result["header"].get_object().get(header) == simdjson::SUCCESS &&
      !read_int64(header, "revision", message.revision)) {
    return etcd_error("a watch message has a bad header.revision");
  }
  message.created = read_bool(result, "created");
  message.canceled = read_bool(result, "canceled");
  message.cancel_reason = read_string(result, "cancel_reason");
  if (!read_int64(result, "compact_revision", message.compact_revision)) {
    return etcd_error("a watch message has a bad compact_revision");
  }
  simdjson::dom::element events;
  if (result["events"].get(events) != simdjson::SUCCESS) return message;
  simdjson::dom::array items;
  if (events.get_array().get(items) != simdjson::SUCCESS) return etcd_error("a watch message has a non-array events");
  for (auto item : items) {
    simdjson::dom::object event, kv;
    if (item.get_object().get(event) != simdjson::SUCCESS || event["kv"].get_object().get(kv) != simdjson::SUCCESS) {
      return etcd_error("a watch event has no kv object");
    }
    // proto3 JSON omits an enum at its default, so a PUT (0) usually has no "type" at all.
    const std::string_view type = read_string(event, "type");
    if (!type.empty() && type != "PUT" && type != "DELETE") {
      return etcd_error("a watch event has the unknown type '" + std::string(type) + "'");
    }
    auto decoded = read_kv(kv);
    if (!decoded) return std::move(decoded).error();
    if (type == "DELETE") decoded->type = EtcdEvent::Type::kDelete;
    message.events.push_back(std::move(decoded).value());
  }
  return message;
}

void apply_etcd_events(const std::vector<EtcdEvent>& events, const std::string& prefix,
                       std::map<std::string, std::string>& entries) {
  for (const auto& event : events) {
    if (!starts_with(event.key, prefix)) continue;
    std::string key = event.key.substr(prefix.size());
    if (event.type == EtcdEvent::Type::kDelete) {
      entries.erase(key);
    } else {
      entries.insert_or_assign(std::move(key), event.value);
    }
  }
}

}  // namespace intake::sources
