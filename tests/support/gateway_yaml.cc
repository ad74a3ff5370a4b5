#include "gateway_yaml.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "crypto/digest.h"

namespace intake::testing {

std::string GatewayYaml::render() const {
  std::string yaml = "server: {listen: \"127.0.0.1:" + std::to_string(port) + "\", threads: 2";
  for (const auto& [name, value] : server_fields) yaml += ", " + name + ": " + value;
  yaml += "}\n";
  yaml += "kafka: {bootstrap_servers: \"" + bootstrap + "\", shutdown_flush_ms: " + std::to_string(shutdown_flush_ms) +
          ", drain_grace_ms: " + std::to_string(drain_grace_ms);
  for (const auto& [name, value] : kafka_fields) yaml += ", " + name + ": " + value;
  if (!kafka_properties.empty()) {
    yaml += ", properties: {";
    for (std::size_t i = 0; i < kafka_properties.size(); ++i) {
      yaml += (i ? ", \"" : "\"") + kafka_properties[i].first + "\": \"" + kafka_properties[i].second + "\"";
    }
    yaml += "}";
  }
  yaml += "}\n";
  if (!spool_dir.empty()) {
    yaml += "spool: {dir: \"" + spool_dir + "\", mode: " + spool_mode + ", fsync: " + spool_fsync;
    if (spool_max_bytes > 0) yaml += ", max_bytes: " + std::to_string(spool_max_bytes);
    if (spool_segment_bytes > 0) yaml += ", segment_bytes: " + std::to_string(spool_segment_bytes);
    yaml += "}\n";
  }
  yaml += "admin: {token_sha256: " + crypto::to_hex(crypto::sha256(kAdminToken));
  for (const auto& [name, value] : admin_fields) yaml += ", " + name + ": " + value;
  yaml += "}\n";
  if (!consul_address.empty()) {
    yaml += "config:\n  source: consul\n";
    yaml += std::string("  on_unreachable_at_start: ") + (wait_for_registry ? "wait" : "use_file") + "\n";
    for (const auto& [name, value] : config_fields) yaml += "  " + name + ": " + value + "\n";
    yaml += "  consul: {address: \"" + consul_address + "\", prefix: \"" + consul_prefix +
            "\", wait_ms: " + std::to_string(consul_wait_ms);
    if (!broker_service.empty()) yaml += ", broker_service: \"" + broker_service + "\"";
    yaml += "}\n";
  }
  if (!keys.empty()) {
    yaml += "keys:\n";
    for (const auto& key : keys) {
      yaml += "  " + key.id + ": {secret_sha256: " + crypto::to_hex(crypto::sha256(key.secret)) + ", topics: [";
      for (std::size_t i = 0; i < key.topics.size(); ++i) yaml += (i ? ", \"" : "\"") + key.topics[i] + "\"";
      yaml += "]" + (key.extra.empty() ? std::string() : ", " + key.extra) + "}\n";
    }
  }
  return yaml;
}

std::string key_json(const std::string& secret, const std::vector<std::string>& topics, const std::string& extra) {
  std::string json = R"({"secret_sha256":")" + crypto::to_hex(crypto::sha256(secret)) + R"(","topics":[)";
  for (std::size_t i = 0; i < topics.size(); ++i) json += (i ? ",\"" : "\"") + topics[i] + "\"";
  return json + "]" + extra + "}";
}

std::string unique_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return stem + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 100'000'000) + "-" +
         std::to_string(counter++);
}

}  // namespace intake::testing
