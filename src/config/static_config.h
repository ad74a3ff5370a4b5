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
#include "config/env_overrides.h"
#include "config/raw_tree.h"
#include "crypto/digest.h"
#include "http/server_options.h"
#include "kafka/producer_options.h"
#include "logging/log_options.h"
#include "sources/consul_registration_options.h"
#include "sources/registry_options.h"
#include "spool/spool_options.h"

namespace intake::config {

// What `intake run` watches for these settings, and whether serving waits for it.
struct WatchPlan {
  bool registry = false;       // a registry holds the keys (config.source is not none)
  bool consul_health = false;  // brokers also from Consul health (config.consul.broker_service),
                               // beside any source, `none` included
  // on_unreachable_at_start: wait with a registry to wait for: serve only once its first tree
  // is applied. Health discovery alone never holds serving back (the YAML's keys apply).
  bool wait_for_registry = false;
};
WatchPlan plan_watches(const sources::RegistryOptions& registry);

// Idempotency-Key retries (api/idempotency_cache.h): how long an answer is kept, and the
// memory all kept answers may use.
struct IdempotencyOptions {
  std::uint32_t window_s = 600;
  std::size_t max_bytes = std::size_t{64} * 1024 * 1024;
};

// signing: the replay cache of signed requests (policy/replay_cache.h).
// metrics: which topics /metrics names (api/accepted_by_topic.h); the rest count as "_other".
struct MetricsOptions {
  std::vector<std::string> topics{};  // topic globs; empty = every topic counts as "_other"
  std::size_t max_topics = 50;        // topics past this many (first seen first) count as "_other"
};

struct SigningOptions {
  std::size_t replay_cache_max_bytes = std::size_t{32} << 20;
};

// confluent: what the Confluent REST Proxy routes tell clients (api/confluent_v3_handler.h).
struct ConfluentOptions {
  // The cluster id v3 paths name. Empty = the Kafka cluster's own id.
  std::string cluster_id;
};

struct StaticConfig {
  std::string path;
  http::ServerOptions server;
  // server.admin_listen: /admin/* and /metrics on a listener of their own, with server's
  // limits and one thread; none = beside the API on server.listen.
  std::optional<http::ServerOptions> admin_server;
  kafka::ProducerOptions kafka;
  sources::RegistryOptions registry;
  spool::SpoolOptions spool;
  ConfluentOptions confluent;
  std::optional<crypto::Sha256> admin_token_sha256;
  bool metrics_require_token = false;  // admin.metrics_require_token: /metrics needs the admin token
  IdempotencyOptions idempotency;
  SigningOptions signing;
  MetricsOptions metrics;
  logging::LogOptions logging;  // logging: format, level, access-log sampling
  // consul_registration: this gateway as a Consul service with a /readyz check (off by default).
  sources::ConsulRegistrationOptions consul_registration;
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
// Same, with environment overrides (config/env_overrides.h) applied to the file's tree before
// it is validated; a message about a setting an override set names its variable.
StaticConfig load_static_config(const std::string& path, const std::vector<EnvOverride>& overrides);

// Same, from YAML text (`origin` names it in messages).
StaticConfig parse_static_config(const std::string& yaml_text, const std::string& origin);
StaticConfig parse_static_config(const std::string& yaml_text, const std::string& origin,
                                 const std::vector<EnvOverride>& overrides);

// The file's YAML with the overrides applied, secrets (config.consul.token,
// config.etcd.password, keys' signing_secret, kafka.properties holding a password, secret,
// token or key) shown as <redacted>, defaults not filled in: for `intake check-config --print`.
// Throws StaticConfigError as load_static_config does.
std::string effective_yaml(const std::string& path, const std::vector<EnvOverride>& overrides);

// Builds the first runtime Config from the file's keys (before any registry answers).
std::shared_ptr<Config> config_from_static(const StaticConfig& file);

}  // namespace intake::config
