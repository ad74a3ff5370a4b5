// The YAML file given to `intake run --config`: where to listen, how to reach Kafka, the admin
// token, and the bootstrap set of API keys. Loaded once at start-up; errors are exceptions
// (StaticConfigError) whose message names the field and says what to fix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/raw_tree.h"
#include "crypto/digest.h"
#include "http/server_options.h"
#include "kafka/producer_options.h"
#include "spool/spool_options.h"

namespace intake::config {

struct ConsulSettings {
  std::string address = "http://127.0.0.1:8500";
  std::string prefix = "intake/";
  std::string token;            // X-Consul-Token; empty = none
  std::uint32_t wait_ms = 300'000;  // blocking-query wait
  std::string broker_service;   // non-empty: brokers also from /v1/health/service/<name>?passing=1
};

struct EtcdSettings {
  std::string address = "http://127.0.0.1:2379";
  std::string prefix = "intake/";
  std::string username;  // empty = no authentication
  std::string password;
};

struct ZooKeeperSettings {
  std::string hosts = "127.0.0.1:2181";
  std::string root = "/intake";
  std::uint32_t session_timeout_ms = 10'000;
};

struct FileSourceSettings {
  std::string path;  // a YAML file, or a directory mirroring the registry layout
};

// Where live configuration comes from. The YAML's own keys are the bootstrap and the fallback.
struct RegistrySettings {
  enum class Kind : std::uint8_t { kNone, kConsul, kEtcd, kZooKeeper, kFile };
  Kind source = Kind::kNone;
  // false: serve with the YAML's keys until the registry answers; true: wait for the registry.
  bool wait_at_start = false;
  ConsulSettings consul;  // consul.broker_service also works beside another source
  EtcdSettings etcd;
  ZooKeeperSettings zookeeper;
  FileSourceSettings file;
};

// What `intake run` watches for these settings, and whether serving waits for it.
struct WatchPlan {
  bool registry = false;       // a registry holds the keys (config.source is not none)
  bool consul_health = false;  // brokers also from Consul health (config.consul.broker_service),
                               // beside any source, `none` included
  // on_unreachable_at_start: wait with a registry to wait for: serve only once its first tree
  // is applied. Health discovery alone never holds serving back (the YAML's keys apply).
  bool wait_for_registry = false;
};
WatchPlan plan_watches(const RegistrySettings& registry);

struct StaticConfig {
  std::string path;
  http::ServerOptions server;
  kafka::ProducerOptions kafka;
  RegistrySettings registry;
  spool::SpoolOptions spool;
  std::optional<crypto::Sha256> admin_token_sha256;
  // The YAML's `keys:`, as registry entries ("keys/<id>" → JSON): read by the same parser as a
  // registry's keys (config/builder.h), so every key field works in both places.
  RawTree keys;
  std::size_t key_count = 0;
};

class StaticConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws StaticConfigError for a missing file, bad YAML, unknown fields or invalid values.
StaticConfig load_static_config(const std::string& path);

// Same, from YAML text (`origin` names it in messages).
StaticConfig parse_static_config(const std::string& yaml_text, const std::string& origin);

// Builds the first runtime Config from the file's keys (before any registry answers).
std::shared_ptr<Config> config_from_static(const StaticConfig& file);

}  // namespace intake::config
