// The registries the conformance suite drives, behind one interface: each writes the layout of
// docs/registry-layout.md with that system's own API, can change several entries atomically
// (Consul txn, etcd txn, ZooKeeper multi, one atomic file rename), and can be stopped and
// restarted through the project's scripts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sources/source.h"

namespace intake::conformance {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // A source watching this test's own subtree.
  virtual std::unique_ptr<sources::Source> make_source() = 0;
  // The `config:` section of a gateway YAML that watches the same subtree (config.source).
  virtual std::string gateway_config_yaml() const = 0;

  // `entries` are relative keys ("keys/a") → values; all of them change in one atomic step.
  virtual void put_all(const std::map<std::string, std::string>& entries) = 0;
  void put(const std::string& key, const std::string& value) { put_all({{key, value}}); }
  virtual void remove(const std::string& key) = 0;
  virtual void remove_everything() = 0;
  // Writes many entries fast; need not be atomic.
  virtual void bulk_load(const std::map<std::string, std::string>& entries) = 0;

  // The registry goes away and comes back empty (a dev agent or a fresh data dir).
  virtual void stop() = 0;
  virtual void start() = 0;

  // How many times the sources made by make_source() (and the gateway) have tried to reach
  // the registry, where that is counted outside the source: ZooKeeper's C client reconnects
  // by itself, unseen by the source's request counter, so its connections are counted by a
  // proxy in front of the server. nullopt where every attempt is one of the source's own
  // requests (SourceStats::requests): an HTTP call for Consul and etcd, a re-read of the
  // file for the file source.
  virtual std::optional<std::uint64_t> connection_attempts() const { return std::nullopt; }
  // The most such attempts in 5 s with the registry down that still mean "paced, not a spin":
  // 20 for the sources' own Backoff (250 ms doubling to 30 s: about 5 in 5 s).
  virtual std::uint64_t max_attempts_in_5s_down() const { return 20; }
};

std::unique_ptr<Backend> make_consul_backend();
std::unique_ptr<Backend> make_etcd_backend();
std::unique_ptr<Backend> make_zookeeper_backend();
std::unique_ptr<Backend> make_file_backend();

}  // namespace intake::conformance
