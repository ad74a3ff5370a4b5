// Builds the YAML config an integration test starts the real gateway with.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace intake::testing {

inline constexpr const char* kAdminToken = "it-admin-token";

struct YamlKey {
  YamlKey(std::string id_, std::string secret_, std::vector<std::string> topics_, std::string extra_ = {})
      : id(std::move(id_)), secret(std::move(secret_)), topics(std::move(topics_)), extra(std::move(extra_)) {}
  std::string id;
  std::string secret;
  std::vector<std::string> topics;
  std::string extra;  // more fields of the key's mapping, as YAML (e.g. "enabled: false")
};

struct GatewayYaml {
  std::uint16_t port = 0;
  std::string bootstrap;       // kafka.bootstrap_servers
  std::string consul_address;  // empty = config.source: file
  std::string consul_prefix = "intake/";
  std::string broker_service;  // empty = no health watch
  std::uint32_t consul_wait_ms = 300'000;
  bool wait_for_registry = true;
  std::uint32_t drain_grace_ms = 10'000;
  std::uint32_t shutdown_flush_ms = 20'000;
  std::string spool_dir;                 // empty = no spool
  std::string spool_mode = "fallback";   // fallback | write_ahead
  std::string spool_fsync = "interval";  // always | interval | never
  std::uint64_t spool_max_bytes = 0;     // 0 = the default
  std::uint64_t spool_segment_bytes = 0;
  std::vector<YamlKey> keys;
  // kafka.properties: passed to librdkafka as they are.
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  // More fields of the server: and kafka: sections, as YAML scalars (e.g. {"max_queued_records", "5"}).
  std::vector<std::pair<std::string, std::string>> server_fields;
  std::vector<std::pair<std::string, std::string>> kafka_fields;
  // More fields of the admin: and config: sections (e.g. {"metrics_require_token", "true"}).
  std::vector<std::pair<std::string, std::string>> admin_fields;
  std::vector<std::pair<std::string, std::string>> config_fields;

  std::string render() const;
};

// The registry JSON of a key with this secret and these topic globs.
std::string key_json(const std::string& secret, const std::vector<std::string>& topics, const std::string& extra = "");

// A name unique to this test process and call, for topics and registry prefixes.
std::string unique_name(const std::string& stem);

}  // namespace intake::testing
