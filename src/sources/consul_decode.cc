#include "sources/consul_decode.h"

#include <simdjson.h>

#include <set>
#include <string_view>

#include "encoding/base64.h"
#include "names/broker_address.h"

namespace intake::sources {

namespace {

Error decode_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }

}  // namespace

Result<config::RawTree> decode_kv_answer(const HttpAnswer& answer, const std::string& prefix) {
  config::RawTree tree;
  tree.prefix = prefix;
  if (answer.status == 404) return tree;  // no key under the prefix: an empty config, not an error
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(answer.body).get_array().get(items) != simdjson::SUCCESS) {
    return decode_error("Consul's KV answer is not a JSON array");
  }
  for (auto item : items) {
    std::string_view key;
    if (item["Key"].get_string().get(key) != simdjson::SUCCESS) return decode_error("a KV entry has no Key");
    if (key.substr(0, prefix.size()) != prefix) continue;
    std::string value;
    auto encoded = item["Value"];
    // Null values (folders, `consul kv put key` without data) are empty strings.
    if (encoded.error() == simdjson::SUCCESS && !encoded.is_null()) {
      std::string_view base64;
      if (encoded.get_string().get(base64) != simdjson::SUCCESS) {
        return decode_error("KV entry " + std::string(key) + " has a non-string Value");
      }
      auto decoded = encoding::base64_decode(base64);
      if (!decoded) return decode_error("KV entry " + std::string(key) + " has a Value that is not base64");
      value = std::move(*decoded);
    }
    tree.entries.emplace(std::string(key.substr(prefix.size())), std::move(value));
  }
  return tree;
}

namespace {

// Registry text for a log line: at most 64 bytes, control characters replaced.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 64) out += "...";
  return out;
}

// "instance '<Service.ID>' on node '<Node.Node>'", with what the entry has of both.
std::string describe(simdjson::dom::element entry) {
  std::string_view id, node;
  const bool has_id = entry["Service"]["ID"].get_string().get(id) == simdjson::SUCCESS;
  const bool has_node = entry["Node"]["Node"].get_string().get(node) == simdjson::SUCCESS;
  std::string out = "instance";
  if (has_id) out += " '" + printable(id) + "'";
  if (has_node) out += " on node '" + printable(node) + "'";
  return out;
}

}  // namespace

Result<HealthInstances> decode_health_answer(const std::string& body) {
  HealthInstances out;
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(body).get_array().get(entries) != simdjson::SUCCESS) {
    return make_error(ErrorCode::kInternal, "Consul's health answer is not a JSON array");
  }
  std::set<std::string> unique;
  for (auto entry : entries) {
    std::uint64_t port = 0;
    if (entry["Service"]["Port"].get_uint64().get(port) != simdjson::SUCCESS || port == 0 || port > 65535) {
      out.skipped.push_back(describe(entry) + " has no valid Service.Port (registered without a port?)");
      continue;
    }
    std::string_view address;
    if (entry["Service"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
      if (entry["Node"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
        out.skipped.push_back(describe(entry) + " has neither Service.Address nor Node.Address");
        continue;
      }
    }
    auto broker = names::make_broker_address(address, port);
    if (!broker) {
      out.skipped.push_back(describe(entry) + " has address '" + printable(address) +
                            "', which is no host name or IP address");
      continue;
    }
    unique.insert(std::move(*broker));
  }
  out.brokers.assign(unique.begin(), unique.end());
  return out;
}

}  // namespace intake::sources
