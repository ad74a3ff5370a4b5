#include "config/static_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>

#include "config/builder.h"
#include "config/yaml_json.h"
#include "names/topic_glob.h"

namespace intake::config {
namespace {

// The environment overrides of the parse in progress on this thread, so that any message about
// a setting one of them set names the variable (start-up only; see OverridesInForce).
thread_local const std::vector<EnvOverride>* overrides_in_force = nullptr;

class OverridesInForce {
 public:
  explicit OverridesInForce(const std::vector<EnvOverride>& overrides) { overrides_in_force = &overrides; }
  ~OverridesInForce() { overrides_in_force = nullptr; }
  OverridesInForce(const OverridesInForce&) = delete;
  OverridesInForce& operator=(const OverridesInForce&) = delete;
};

// True iff `inner` is `outer` or lies below it ("server.listen (port)", "kafka.copy_headers[0]"
// and "server.tls.cert_file" all lie below "server...").
bool within(std::string_view inner, std::string_view outer) {
  return inner.substr(0, outer.size()) == outer &&
         (inner.size() == outer.size() || std::string_view(".[ ").find(inner[outer.size()]) != std::string_view::npos);
}

// " (set by environment variable INTAKE_SERVER__LISTEN)" when an override set `where`, a
// section holding it, or a setting below it (an unknown field names the level that is wrong);
// "" otherwise.
std::string set_by(const std::string& where) {
  if (overrides_in_force == nullptr) return "";
  for (const auto& override : *overrides_in_force) {
    const std::string path = dotted_path(override.path);
    if (within(where, path) || within(path, where)) return " (set by environment variable " + override.variable + ")";
  }
  return "";
}

[[noreturn]] void fail(const std::string& origin, const std::string& where, const std::string& what) {
  throw StaticConfigError(origin + ": " + where + ": " + what + set_by(where));
}

// Puts `value` at `path` below `node`, making the sections on the way.
void set_path(YAML::Node node, const std::vector<std::string>& path, std::size_t level, const YAML::Node& value,
              const std::string& origin) {
  if (level + 1 == path.size()) {
    node[path[level]] = value;
    return;
  }
  YAML::Node child = node[path[level]];
  if (child.IsDefined() && !child.IsNull() && !child.IsMap()) {
    const std::vector<std::string> section(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(level) + 1);
    fail(origin, dotted_path(path), dotted_path(section) + " is a single value in the file, not a section");
  }
  if (!child.IsMap()) child = YAML::Node(YAML::NodeType::Map);
  set_path(child, path, level + 1, value, origin);
}

// Applies the overrides to the file's tree before it is read: whatever they set is then
// validated as if the file said it.
void apply_overrides(YAML::Node& root, const std::vector<EnvOverride>& overrides, const std::string& origin) {
  if (overrides.empty()) return;
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& override : overrides) {
    const std::string where = dotted_path(override.path);
    if (std::find(override.path.begin(), override.path.end(), std::string()) != override.path.end()) {
      fail(origin, where, "an empty level in the variable's name (levels are separated by exactly two '_')");
    }
    YAML::Node value;
    try {
      value = YAML::Load(override.value);
    } catch (const YAML::Exception& e) {
      fail(origin, where, std::string("not a YAML value (quote it if it holds ': ' or '#'): ") + e.what());
    }
    set_path(root, override.path, 0, value, origin);
  }
}

constexpr std::string_view kTopLevel = "(top level)";

// Rejects fields we do not know: a typo must not silently fall back to a default.
void require_known_fields(const YAML::Node& node, const std::string& origin, const std::string& where,
                          std::initializer_list<std::string_view> known) {
  if (!node.IsMap()) fail(origin, where, "expected a mapping");
  for (const auto& item : node) {
    const auto name = item.first.as<std::string>();
    bool found = false;
    for (auto k : known) found = found || k == name;
    if (!found) {
      std::string list;
      for (auto k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      std::string field = where == kTopLevel ? std::string() : where + ".";
      field.append(name);
      fail(origin, field, "unknown field (known fields: " + list + ")");
    }
  }
}

std::string scalar(const YAML::Node& node, const std::string& origin, const std::string& where) {
  if (!node.IsScalar()) fail(origin, where, "expected a single value");
  return node.Scalar();
}

bool boolean(const YAML::Node& node, const std::string& origin, const std::string& where) {
  const std::string text = scalar(node, origin, where);
  if (text == "true") return true;
  if (text == "false") return false;
  fail(origin, where, "expected true or false, got '" + text + "'");
}

template <typename Int>
Int integer(const YAML::Node& node, const std::string& origin, const std::string& where, Int min, Int max) {
  const std::string text = scalar(node, origin, where);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(origin, where, "expected an integer, got '" + text + "'");
  }
  if (value < static_cast<long long>(min) || value > static_cast<long long>(max)) {
    fail(origin, where, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
  }
  return static_cast<Int>(value);
}

void parse_listen(const std::string& text, http::ServerOptions& server, const std::string& origin,
                  const std::string& where = "server.listen") {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    fail(origin, where, "expected ADDRESS:PORT such as 127.0.0.1:8080, got '" + text + "'");
  }
  server.address = text.substr(0, colon);
  YAML::Node port_node(text.substr(colon + 1));
  server.port = integer<std::uint16_t>(port_node, origin, where + " (port)", 1, 65535);
}

logging::LogOptions parse_logging(const YAML::Node& node, const std::string& origin) {
  require_known_fields(node, origin, "logging", {"format", "level", "access_log"});
  logging::LogOptions options;
  if (node["format"]) {
    const auto format = scalar(node["format"], origin, "logging.format");
    if (format == "text") {
      options.format = logging::LogFormat::kText;
    } else if (format == "json") {
      options.format = logging::LogFormat::kJson;
    } else if (format == "logfmt") {
      options.format = logging::LogFormat::kLogfmt;
    } else {
      fail(origin, "logging.format", "expected text, json or logfmt, got '" + format + "'");
    }
  }
  if (node["level"]) {
    options.level = scalar(node["level"], origin, "logging.level");
    static const std::vector<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), options.level) == levels.end()) {
      fail(origin, "logging.level",
           "expected trace, debug, info, warn, error, critical or off, got '" + options.level + "'");
    }
  }
  if (const auto& access = node["access_log"]) {
    require_known_fields(access, origin, "logging.access_log", {"sample_rate"});
    if (access["sample_rate"]) {
      const auto text = scalar(access["sample_rate"], origin, "logging.access_log.sample_rate");
      char* end = nullptr;
      const double rate = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !(rate >= 0.0 && rate <= 1.0)) {
        fail(origin, "logging.access_log.sample_rate",
             "expected a number from 0 (no access log) to 1 (every request), got '" + text + "'");
      }
      options.access_log_sample_rate = rate;
    }
  }
  return options;
}

// The admin listener: server's limits, its own address, one thread (operators' traffic).
std::optional<http::ServerOptions> parse_admin_listen(const YAML::Node& node, const http::ServerOptions& server,
                                                      const std::string& origin) {
  if (!node) return std::nullopt;
  http::ServerOptions admin = server;
  admin.threads = 1;
  // Plain HTTP: the admin listener is for loopback or a private network, and scrapers rarely
  // hold the client certificate server.tls may require (docs/security.md).
  admin.tls.reset();
  parse_listen(scalar(node, origin, "server.admin_listen"), admin, origin, "server.admin_listen");
  // Both listeners set SO_REUSEPORT: on one port they would share connections, not split them.
  if (admin.port == server.port) {
    fail(origin, "server.admin_listen",
         "must use another port than server.listen (" + std::to_string(server.port) + ")");
  }
  return admin;
}

http::TlsOptions parse_tls(const YAML::Node& node, const std::string& origin) {
  require_known_fields(node, origin, "server.tls",
                       {"cert_file", "key_file", "client_ca_file", "client_auth", "reload_interval_ms"});
  http::TlsOptions tls;
  for (const char* required : {"cert_file", "key_file"}) {
    if (!node[required]) fail(origin, std::string("server.tls.") + required, "required: a PEM file path");
  }
  tls.cert_file = scalar(node["cert_file"], origin, "server.tls.cert_file");
  tls.key_file = scalar(node["key_file"], origin, "server.tls.key_file");
  if (node["client_ca_file"]) tls.client_ca_file = scalar(node["client_ca_file"], origin, "server.tls.client_ca_file");
  if (node["client_auth"]) {
    const std::string mode = scalar(node["client_auth"], origin, "server.tls.client_auth");
    if (mode == "none") {
      tls.client_auth = http::TlsOptions::ClientAuth::kNone;
    } else if (mode == "optional") {
      tls.client_auth = http::TlsOptions::ClientAuth::kOptional;
    } else if (mode == "required") {
      tls.client_auth = http::TlsOptions::ClientAuth::kRequired;
    } else {
      fail(origin, "server.tls.client_auth", "expected none, optional or required, got '" + mode + "'");
    }
  }
  if (tls.client_auth != http::TlsOptions::ClientAuth::kNone && tls.client_ca_file.empty()) {
    fail(origin, "server.tls.client_ca_file", "required when client_auth is optional or required");
  }
  if (node["reload_interval_ms"]) {
    tls.reload_interval_ms =
        integer<std::uint32_t>(node["reload_interval_ms"], origin, "server.tls.reload_interval_ms", 100, 3'600'000);
  }
  return tls;
}

void parse_server(const YAML::Node& node, http::ServerOptions& server, const std::string& origin) {
  require_known_fields(
      node, origin, "server",
      {"listen", "admin_listen", "threads", "max_body_bytes", "max_header_bytes", "idle_timeout_ms", "sync_timeout_ms",
       "max_connections", "max_connections_per_ip", "max_inflight_body_bytes", "header_timeout_ms", "body_timeout_ms",
       "body_min_bytes_per_s", "write_timeout_ms", "retry_after_s", "drain_delay_ms", "tls"});
  if (node["tls"]) server.tls = parse_tls(node["tls"], origin);
  if (node["listen"]) parse_listen(scalar(node["listen"], origin, "server.listen"), server, origin);
  if (node["threads"]) server.threads = integer<unsigned>(node["threads"], origin, "server.threads", 0, 256);
  if (node["max_body_bytes"]) {
    server.max_body_bytes =
        integer<std::size_t>(node["max_body_bytes"], origin, "server.max_body_bytes", 1, std::size_t{64} * 1024 * 1024);
  }
  if (node["max_header_bytes"]) {
    server.max_header_bytes = integer<std::size_t>(node["max_header_bytes"], origin, "server.max_header_bytes", 1024,
                                                   std::size_t{1024} * 1024);
  }
  if (node["sync_timeout_ms"]) {
    server.sync_timeout_ms =
        integer<std::uint32_t>(node["sync_timeout_ms"], origin, "server.sync_timeout_ms", 100, 600'000);
  }
  if (node["idle_timeout_ms"]) {
    server.idle_timeout_ms =
        integer<std::uint32_t>(node["idle_timeout_ms"], origin, "server.idle_timeout_ms", 100, 3'600'000);
  }
  const auto set = [&](const char* name, auto& field, long long min, long long max) {
    using Field = std::remove_reference_t<decltype(field)>;
    if (node[name]) {
      field = integer<Field>(node[name], origin, std::string("server.") + name, static_cast<Field>(min),
                             static_cast<Field>(max));
    }
  };
  set("max_connections", server.max_connections, 0, 10'000'000);
  set("max_connections_per_ip", server.max_connections_per_ip, 0, 10'000'000);
  set("max_inflight_body_bytes", server.max_inflight_body_bytes, 1024, std::int64_t{1} << 40);
  set("header_timeout_ms", server.header_timeout_ms, 100, 3'600'000);
  set("body_timeout_ms", server.body_timeout_ms, 100, 3'600'000);
  set("body_min_bytes_per_s", server.body_min_bytes_per_s, 0, 1'000'000'000);
  set("write_timeout_ms", server.write_timeout_ms, 100, 3'600'000);
  set("retry_after_s", server.retry_after_s, 1, 3600);
  set("drain_delay_ms", server.drain_delay_ms, 0, 300'000);
}

void parse_kafka(const YAML::Node& node, kafka::ProducerOptions& kafka, const std::string& origin) {
  require_known_fields(
      node, origin, "kafka",
      {"bootstrap_servers", "properties", "shutdown_flush_ms", "drain_grace_ms", "copy_headers", "compression",
       "linger_ms", "batch_bytes", "max_queued_records", "max_queued_bytes", "delivery_timeout_ms"});
  if (!node["bootstrap_servers"]) {
    fail(origin, "kafka.bootstrap_servers", "required: a comma-separated HOST:PORT list");
  }
  kafka.bootstrap_servers = scalar(node["bootstrap_servers"], origin, "kafka.bootstrap_servers");
  if (kafka.bootstrap_servers.empty()) fail(origin, "kafka.bootstrap_servers", "must not be empty");
  if (const auto& props = node["properties"]) {
    if (!props.IsMap()) fail(origin, "kafka.properties", "expected a mapping of librdkafka properties");
    for (const auto& item : props) {
      const auto name = item.first.as<std::string>();
      kafka.properties.emplace_back(name, scalar(item.second, origin, "kafka.properties." + name));
    }
  }
  if (node["shutdown_flush_ms"]) {
    kafka.shutdown_flush_ms =
        integer<std::uint32_t>(node["shutdown_flush_ms"], origin, "kafka.shutdown_flush_ms", 0, 600'000);
  }
  if (const auto& headers = node["copy_headers"]) {
    if (!headers.IsSequence()) fail(origin, "kafka.copy_headers", "expected a list of HTTP header names");
    if (headers.size() > 16) fail(origin, "kafka.copy_headers", "at most 16 headers can be copied");
    for (std::size_t i = 0; i < headers.size(); ++i) {
      const std::string where = "kafka.copy_headers[" + std::to_string(i) + "]";
      std::string name = scalar(headers[i], origin, where);
      const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
      });
      if (!valid) fail(origin, where, "'" + name + "' is not an HTTP header name");
      kafka.copy_headers.push_back(std::move(name));
    }
  }
  if (node["drain_grace_ms"]) {
    kafka.drain_grace_ms = integer<std::uint32_t>(node["drain_grace_ms"], origin, "kafka.drain_grace_ms", 0, 600'000);
  }
  if (node["compression"]) {
    kafka.compression = scalar(node["compression"], origin, "kafka.compression");
    const std::set<std::string> known{"none", "gzip", "snappy", "lz4", "zstd"};
    if (!known.count(kafka.compression)) {
      fail(origin, "kafka.compression", "expected none, gzip, snappy, lz4 or zstd, got '" + kafka.compression + "'");
    }
  }
  if (node["linger_ms"])
    kafka.linger_ms = integer<std::uint32_t>(node["linger_ms"], origin, "kafka.linger_ms", 0, 900'000);
  if (node["batch_bytes"]) {
    kafka.batch_bytes = integer<std::uint32_t>(node["batch_bytes"], origin, "kafka.batch_bytes", 1, 2'147'483'647);
  }
  if (node["max_queued_records"]) {
    kafka.max_queued_records =
        integer<std::uint32_t>(node["max_queued_records"], origin, "kafka.max_queued_records", 1, 2'147'483'647);
  }
  if (node["max_queued_bytes"]) {
    kafka.max_queued_bytes = integer<std::uint64_t>(node["max_queued_bytes"], origin, "kafka.max_queued_bytes", 1024,
                                                    2'147'483'647ull * 1024);
  }
  if (node["delivery_timeout_ms"]) {
    kafka.delivery_timeout_ms =
        integer<std::uint32_t>(node["delivery_timeout_ms"], origin, "kafka.delivery_timeout_ms", 1'000, 2'147'483'647);
  }
}

void parse_spool(const YAML::Node& node, spool::SpoolOptions& spool, const std::string& origin) {
  require_known_fields(node, origin, "spool",
                       {"dir", "mode", "fsync", "fsync_interval_ms", "max_bytes", "segment_bytes"});
  if (node["dir"]) spool.dir = scalar(node["dir"], origin, "spool.dir");
  if (node["mode"]) {
    const std::string mode = scalar(node["mode"], origin, "spool.mode");
    if (mode == "fallback")
      spool.mode = spool::SpoolOptions::Mode::kFallback;
    else if (mode == "write_ahead")
      spool.mode = spool::SpoolOptions::Mode::kWriteAhead;
    else
      fail(origin, "spool.mode", "expected fallback or write_ahead, got '" + mode + "'");
  }
  if (node["fsync"]) {
    const std::string fsync = scalar(node["fsync"], origin, "spool.fsync");
    if (fsync == "always")
      spool.fsync = spool::SpoolOptions::Fsync::kAlways;
    else if (fsync == "interval")
      spool.fsync = spool::SpoolOptions::Fsync::kInterval;
    else if (fsync == "never")
      spool.fsync = spool::SpoolOptions::Fsync::kNever;
    else
      fail(origin, "spool.fsync", "expected always, interval or never, got '" + fsync + "'");
  }
  if (node["fsync_interval_ms"]) {
    spool.fsync_interval_ms =
        integer<std::uint32_t>(node["fsync_interval_ms"], origin, "spool.fsync_interval_ms", 1, 60'000);
  }
  if (node["segment_bytes"]) {
    spool.segment_bytes = integer<std::uint64_t>(node["segment_bytes"], origin, "spool.segment_bytes",
                                                 std::uint64_t{64} * 1024, 1ull << 32);
  }
  if (node["max_bytes"]) {
    spool.max_bytes =
        integer<std::uint64_t>(node["max_bytes"], origin, "spool.max_bytes", std::uint64_t{1024} * 1024, 1ull << 50);
  }
  if (spool.dir.empty()) fail(origin, "spool.dir", "required when spool is set: a directory for the spool's files");
  if (spool.max_bytes < spool.segment_bytes) {
    fail(origin, "spool.max_bytes",
         "must be at least spool.segment_bytes (" + std::to_string(spool.segment_bytes) + ")");
  }
}

void parse_registry(const YAML::Node& node, sources::RegistryOptions& registry, const std::string& origin) {
  require_known_fields(
      node, origin, "config",
      {"source", "on_unreachable_at_start", "allow_empty_tree", "consul", "etcd", "zookeeper", "file"});
  using Kind = sources::RegistryOptions::Kind;
  if (node["source"]) {
    const std::string source = scalar(node["source"], origin, "config.source");
    if (source == "none")
      registry.source = Kind::kNone;
    else if (source == "consul")
      registry.source = Kind::kConsul;
    else if (source == "etcd")
      registry.source = Kind::kEtcd;
    else if (source == "zookeeper")
      registry.source = Kind::kZooKeeper;
    else if (source == "file")
      registry.source = Kind::kFile;
    else
      fail(origin, "config.source", "expected none, consul, etcd, zookeeper or file, got '" + source + "'");
  }
  if (node["on_unreachable_at_start"]) {
    const std::string mode = scalar(node["on_unreachable_at_start"], origin, "config.on_unreachable_at_start");
    if (mode != "use_file" && mode != "wait") {
      fail(origin, "config.on_unreachable_at_start", "expected use_file or wait, got '" + mode + "'");
    }
    registry.wait_at_start = mode == "wait";
  }
  if (node["allow_empty_tree"]) {
    registry.allow_empty_tree = boolean(node["allow_empty_tree"], origin, "config.allow_empty_tree");
  }
  if (const auto& consul = node["consul"]) {
    require_known_fields(consul, origin, "config.consul", {"address", "prefix", "token", "wait_ms", "broker_service"});
    auto& settings = registry.consul;
    if (consul["address"]) settings.address = scalar(consul["address"], origin, "config.consul.address");
    if (consul["prefix"]) settings.prefix = scalar(consul["prefix"], origin, "config.consul.prefix");
    if (consul["token"]) settings.token = scalar(consul["token"], origin, "config.consul.token");
    if (consul["wait_ms"]) {
      settings.wait = std::chrono::milliseconds(
          integer<std::uint32_t>(consul["wait_ms"], origin, "config.consul.wait_ms", 100, 600'000));
    }
    if (consul["broker_service"])
      settings.broker_service = scalar(consul["broker_service"], origin, "config.consul.broker_service");
    if (settings.prefix.empty() || settings.prefix.front() == '/') {
      fail(origin, "config.consul.prefix", "must be a non-empty KV path without a leading '/', e.g. intake/");
    }
  }
  if (const auto& etcd = node["etcd"]) {
    require_known_fields(etcd, origin, "config.etcd", {"address", "prefix", "username", "password"});
    auto& settings = registry.etcd;
    if (etcd["address"]) settings.address = scalar(etcd["address"], origin, "config.etcd.address");
    if (etcd["prefix"]) settings.prefix = scalar(etcd["prefix"], origin, "config.etcd.prefix");
    if (etcd["username"]) settings.username = scalar(etcd["username"], origin, "config.etcd.username");
    if (etcd["password"]) settings.password = scalar(etcd["password"], origin, "config.etcd.password");
    if (settings.prefix.empty()) fail(origin, "config.etcd.prefix", "must not be empty, e.g. intake/");
  }
  if (const auto& zookeeper = node["zookeeper"]) {
    require_known_fields(zookeeper, origin, "config.zookeeper", {"hosts", "root", "session_timeout_ms"});
    auto& settings = registry.zookeeper;
    if (zookeeper["hosts"]) settings.hosts = scalar(zookeeper["hosts"], origin, "config.zookeeper.hosts");
    if (zookeeper["root"]) settings.root = scalar(zookeeper["root"], origin, "config.zookeeper.root");
    if (zookeeper["session_timeout_ms"]) {
      settings.session_timeout = std::chrono::milliseconds(integer<std::uint32_t>(
          zookeeper["session_timeout_ms"], origin, "config.zookeeper.session_timeout_ms", 1'000, 120'000));
    }
    if (settings.root.empty() || settings.root.front() != '/') {
      fail(origin, "config.zookeeper.root", "must be an absolute znode path, e.g. /intake");
    }
  }
  if (const auto& file = node["file"]) {
    require_known_fields(file, origin, "config.file", {"path"});
    if (file["path"]) registry.file.path = scalar(file["path"], origin, "config.file.path");
  }
  if (registry.source == Kind::kFile && registry.file.path.empty()) {
    fail(origin, "config.file.path", "required with source: file (a YAML file or a directory)");
  }
}

// The YAML's keys as the registry would hold them ("keys/<id>" → JSON), so that one parser
// (build_config) reads keys from both places with one set of rules and messages.
void parse_confluent(const YAML::Node& node, ConfluentOptions& confluent, const std::string& origin) {
  require_known_fields(node, origin, "confluent", {"cluster_id"});
  if (const auto& id = node["cluster_id"]) {
    confluent.cluster_id = scalar(id, origin, "confluent.cluster_id");
    // It is a path segment: Kafka's own ids are 22 base64url characters.
    const bool valid = !confluent.cluster_id.empty() && confluent.cluster_id.size() <= 128 &&
                       std::all_of(confluent.cluster_id.begin(), confluent.cluster_id.end(), [](unsigned char c) {
                         return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
                       });
    if (!valid) {
      fail(origin, "confluent.cluster_id",
           "expected 1 to 128 letters, digits, '-', '_' or '.' (a Kafka cluster id such as lkc-abc123 or "
           "MkU3OEVBNTcwNTJENDM2Qk); leave it out to use the Kafka cluster's own id");
    }
  }
}

// consul_registration: parsed after server and config, whose values it falls back to (the
// agent and token of config.consul, the address of server.listen).
void parse_consul_registration(const YAML::Node& node, StaticConfig& config, const std::string& origin) {
  const std::string where = "consul_registration";
  require_known_fields(node, origin, where,
                       {"enabled", "agent", "token", "service_name", "service_id", "tags", "meta", "address", "port",
                        "check_interval_ms", "check_timeout_ms", "deregister_critical_after_s"});
  auto& out = config.consul_registration;
  out.agent = config.registry.consul.address;
  out.token = config.registry.consul.token;
  if (node["enabled"]) out.enabled = boolean(node["enabled"], origin, where + ".enabled");
  if (node["agent"]) out.agent = scalar(node["agent"], origin, where + ".agent");
  if (node["token"]) out.token = scalar(node["token"], origin, where + ".token");
  auto name_like = [&](const char* field) {
    std::string value = scalar(node[field], origin, where + "." + field);
    // Consul's service names and ids end up in DNS names and URL paths.
    const bool valid =
        !value.empty() && value.size() <= 128 && std::all_of(value.begin(), value.end(), [](unsigned char c) {
          return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
        });
    if (!valid)
      fail(origin, where + "." + field, "expected 1 to 128 letters, digits, '-', '_' or '.', got '" + value + "'");
    return value;
  };
  if (node["service_name"]) out.service_name = name_like("service_name");
  if (node["service_id"]) out.service_id = name_like("service_id");
  if (const auto& tags = node["tags"]) {
    if (!tags.IsSequence()) fail(origin, where + ".tags", "expected a list of strings, e.g. [http, kafka]");
    for (const auto& tag : tags) out.tags.push_back(scalar(tag, origin, where + ".tags"));
  }
  if (const auto& meta = node["meta"]) {
    if (!meta.IsMap()) fail(origin, where + ".meta", "expected a mapping of name to string, e.g. {zone: eu-1}");
    for (const auto& item : meta) {
      const std::string name = scalar(item.first, origin, where + ".meta");
      std::string path = where + ".meta.";
      path += name;
      out.meta.emplace_back(name, scalar(item.second, origin, path));
    }
  }
  if (node["port"]) out.port = integer<std::uint16_t>(node["port"], origin, where + ".port", 1, 65535);
  if (node["check_interval_ms"]) {
    out.check_interval = std::chrono::milliseconds(
        integer<std::uint32_t>(node["check_interval_ms"], origin, where + ".check_interval_ms", 100, 3'600'000));
  }
  if (node["check_timeout_ms"]) {
    out.check_timeout = std::chrono::milliseconds(
        integer<std::uint32_t>(node["check_timeout_ms"], origin, where + ".check_timeout_ms", 100, 300'000));
  }
  if (node["deregister_critical_after_s"]) {
    out.deregister_critical_after = std::chrono::seconds(integer<std::uint32_t>(
        node["deregister_critical_after_s"], origin, where + ".deregister_critical_after_s", 0, 7 * 86'400));
  }
  const auto is_wildcard = [](const std::string& address) {
    return address.empty() || address == "0.0.0.0" || address == "::" || address == "[::]";
  };
  if (node["address"]) {
    out.address = scalar(node["address"], origin, where + ".address");
    if (is_wildcard(out.address)) {
      fail(origin, where + ".address",
           "'" + out.address +
               "' is no address anyone can reach; set the address clients and the Consul agent use "
               "for this gateway");
    }
  } else {
    out.address = config.server.address;
    if (out.enabled && is_wildcard(out.address)) {
      fail(origin, where + ".address",
           "required when server.listen binds every interface (" + config.server.address +
               "): set the address clients and the Consul agent use for this gateway");
    }
  }
}

RawTree yaml_keys_tree(const YAML::Node& keys, const std::string& origin) {
  if (!keys.IsMap()) fail(origin, "keys", "expected a mapping of key id to key settings");
  RawTree tree;
  tree.source = "file";
  for (const auto& item : keys) {
    const std::string id = scalar(item.first, origin, "keys");
    auto json = yaml_to_json(item.second);
    if (!json) fail(origin, "keys." + id, json.error().message);
    if (item.second.IsNull())
      fail(origin, "keys." + id, "expected the key's settings, e.g. {secret_sha256: ..., topics: [...]}");
    tree.entries.emplace("keys/" + id, std::move(json).value());
  }
  return tree;
}

// Builds the YAML's keys; a builder message ("keys/<id>: ...") is given the YAML's spelling.
std::shared_ptr<Config> build_yaml_keys(const RawTree& tree, const std::string& origin) {
  auto built = build_config(tree);
  if (!built) {
    std::string message = built.error().message;
    if (message.rfind("keys/", 0) == 0) message[4] = '.';
    throw StaticConfigError(origin + ": " + message + set_by(message.substr(0, message.find(": "))));
  }
  return std::move(built).value();
}

void parse_metrics(const YAML::Node& node, MetricsOptions& metrics, const std::string& origin) {
  require_known_fields(node, origin, "metrics", {"topics", "max_topics"});
  if (const auto& topics = node["topics"]) {
    if (!topics.IsSequence()) fail(origin, "metrics.topics", "expected a list of topic globs, e.g. [\"orders.*\"]");
    for (std::size_t i = 0; i < topics.size(); ++i) {
      const std::string where = "metrics.topics[" + std::to_string(i) + "]";
      std::string glob = scalar(topics[i], origin, where);
      if (auto checked = names::check_topic_glob(glob); !checked) fail(origin, where, checked.error().message);
      metrics.topics.push_back(std::move(glob));
    }
  }
  if (node["max_topics"]) {
    metrics.max_topics = integer<std::size_t>(node["max_topics"], origin, "metrics.max_topics", 1, 1000);
  }
}

// The file's tree with the overrides applied.
YAML::Node load_tree(const std::string& yaml_text, const std::string& origin,
                     const std::vector<EnvOverride>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw StaticConfigError(origin + ": not valid YAML: " + e.what());
  }
  apply_overrides(root, overrides, origin);
  return root;
}

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw StaticConfigError(path + ": cannot open the config file");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// librdkafka properties that hold a secret: sasl.password, ssl.key.password,
// sasl.oauthbearer.client.secret, ssl.key.pem, ...
bool secret_property(std::string_view name) {
  return name.find("password") != std::string_view::npos || name.find("secret") != std::string_view::npos ||
         name.find(".key.pem") != std::string_view::npos || name.find("token") != std::string_view::npos;
}

void redact(YAML::Node node) {
  if (node.IsDefined() && !node.IsNull()) node = "<redacted>";
}

}  // namespace

StaticConfig parse_static_config(const std::string& yaml_text, const std::string& origin) {
  return parse_static_config(yaml_text, origin, {});
}

StaticConfig parse_static_config(const std::string& yaml_text, const std::string& origin,
                                 const std::vector<EnvOverride>& overrides) {
  const OverridesInForce in_force(overrides);
  const YAML::Node root = load_tree(yaml_text, origin, overrides);
  if (!root.IsMap()) throw StaticConfigError(origin + ": expected a YAML mapping at the top level");
  StaticConfig config;
  config.path = origin;
  try {
    require_known_fields(root, origin, std::string(kTopLevel),
                         {"server", "kafka", "config", "spool", "confluent", "admin", "keys", "idempotency", "signing",
                          "metrics", "logging", "consul_registration"});
    if (root["server"]) {
      parse_server(root["server"], config.server, origin);
      config.admin_server = parse_admin_listen(root["server"]["admin_listen"], config.server, origin);
    }
    if (!root["kafka"]) fail(origin, "kafka", "required: at least kafka.bootstrap_servers");
    parse_kafka(root["kafka"], config.kafka, origin);
    if (root["config"]) parse_registry(root["config"], config.registry, origin);
    if (root["spool"]) parse_spool(root["spool"], config.spool, origin);
    if (root["confluent"]) parse_confluent(root["confluent"], config.confluent, origin);
    if (const auto& admin = root["admin"]) {
      require_known_fields(admin, origin, "admin", {"token_sha256", "metrics_require_token"});
      if (admin["token_sha256"]) {
        auto digest = crypto::parse_sha256_hex(scalar(admin["token_sha256"], origin, "admin.token_sha256"));
        if (!digest) fail(origin, "admin.token_sha256", "expected 64 hex digits");
        config.admin_token_sha256 = *digest;
      }
      if (admin["metrics_require_token"]) {
        config.metrics_require_token = boolean(admin["metrics_require_token"], origin, "admin.metrics_require_token");
        if (config.metrics_require_token && !config.admin_token_sha256) {
          fail(origin, "admin.metrics_require_token", "needs admin.token_sha256: the token /metrics would require");
        }
      }
    }
    if (const auto& idempotency = root["idempotency"]) {
      require_known_fields(idempotency, origin, "idempotency", {"window_s", "max_bytes"});
      if (idempotency["window_s"]) {
        config.idempotency.window_s =
            integer<std::uint32_t>(idempotency["window_s"], origin, "idempotency.window_s", 1, 86'400);
      }
      if (idempotency["max_bytes"]) {
        config.idempotency.max_bytes = integer<std::size_t>(idempotency["max_bytes"], origin, "idempotency.max_bytes",
                                                            std::size_t{1} << 20, std::size_t{16} << 30);
      }
    }
    if (const auto& metrics = root["metrics"]) parse_metrics(metrics, config.metrics, origin);
    if (const auto& signing = root["signing"]) {
      require_known_fields(signing, origin, "signing", {"replay_cache_max_bytes"});
      if (signing["replay_cache_max_bytes"]) {
        config.signing.replay_cache_max_bytes =
            integer<std::size_t>(signing["replay_cache_max_bytes"], origin, "signing.replay_cache_max_bytes",
                                 std::size_t{1} << 20, std::size_t{16} << 30);
      }
    }
    if (const auto& logging = root["logging"]) config.logging = parse_logging(logging, origin);
    if (root["consul_registration"]) parse_consul_registration(root["consul_registration"], config, origin);
    if (const auto& keys = root["keys"]) {
      config.keys = yaml_keys_tree(keys, origin);
      config.key_count = build_yaml_keys(config.keys, origin)->keys.size();  // validated now, at load
    }
  } catch (const YAML::Exception& e) {
    throw StaticConfigError(origin + ": " + e.what());
  }
  return config;
}

StaticConfig load_static_config(const std::string& path) { return load_static_config(path, {}); }

StaticConfig load_static_config(const std::string& path, const std::vector<EnvOverride>& overrides) {
  return parse_static_config(read_file(path), path, overrides);
}

std::string effective_yaml(const std::string& path, const std::vector<EnvOverride>& overrides) {
  const OverridesInForce in_force(overrides);
  YAML::Node root = load_tree(read_file(path), path, overrides);
  if (!root.IsMap()) throw StaticConfigError(path + ": expected a YAML mapping at the top level");
  if (YAML::Node registry = root["config"]; registry.IsMap()) {
    if (registry["consul"].IsMap()) redact(registry["consul"]["token"]);
    if (registry["etcd"].IsMap()) redact(registry["etcd"]["password"]);
  }
  if (YAML::Node registration = root["consul_registration"]; registration.IsMap()) redact(registration["token"]);
  if (YAML::Node kafka = root["kafka"]; kafka.IsMap() && kafka["properties"].IsMap()) {
    for (auto item : kafka["properties"]) {
      if (secret_property(item.first.Scalar())) redact(item.second);
    }
  }
  if (YAML::Node keys = root["keys"]; keys.IsMap()) {
    for (auto item : keys) {
      if (item.second.IsMap()) redact(item.second["signing_secret"]);
    }
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

WatchPlan plan_watches(const sources::RegistryOptions& registry) {
  WatchPlan plan;
  plan.registry = registry.source != sources::RegistryOptions::Kind::kNone;
  plan.consul_health = !registry.consul.broker_service.empty();
  plan.wait_for_registry = plan.registry && registry.wait_at_start;
  return plan;
}

std::shared_ptr<Config> config_from_static(const StaticConfig& file) {
  auto config = build_yaml_keys(file.keys, file.path);
  config->source = "file:" + file.path;
  return config;
}

}  // namespace intake::config
