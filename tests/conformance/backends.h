// The registries the conformance suite drives, behind one interface: each writes the layout of
// docs/registry-layout.md with that system's own API, can change several entries atomically
// (Consul txn, etcd txn, ZooKeeper multi, one atomic file rename), and can be stopped and
// restarted through the project's scripts.
#pragma once

#include <map>
#include <memory>
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
};

std::unique_ptr<Backend> make_consul_backend();
std::unique_ptr<Backend> make_etcd_backend();
std::unique_ptr<Backend> make_zookeeper_backend();
std::unique_ptr<Backend> make_file_backend();

}  // namespace intake::conformance
