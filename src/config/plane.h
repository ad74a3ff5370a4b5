// ConfigPlane: turns what sources report into published Configs. Builds and validates the
// whole config from the latest registry tree plus the latest healthy-broker list, publishes
// only when content changed, and records a rejection (keeping the last good config) when
// validation fails. An answer that would remove every API key the registry gave before (a
// deleted prefix, an emptied directory, a misrouted agent) is held the same way unless
// allow_empty_tree is set: the last good config stays and ConfigStore::held() says why.
// Without a registry (config.source: none) the healthy-broker list applies
// to a fixed base config instead: the YAML's keys.
//
// Thread-safety: the callbacks may be called from any thread; they serialize on a mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/store.h"
#include "config/updates.h"
#include "error/error.h"

namespace intake::config {

// What one source (by the name it reports under: consul_kv, consul_health, etcd, zookeeper,
// file) did lately, for /metrics.
struct SourceHealth {
  std::string source;
  std::uint64_t errors = 0;                              // on_source_error calls
  std::chrono::system_clock::time_point last_success{};  // its last answer (a tree or brokers)
};

struct PlaneOptions {
  // YAML config.allow_empty_tree: true applies a keyless tree after a keyed one (every
  // request then gets 401); false holds it. A tree counts as empty when it has no keys/ entry,
  // whatever topics/, settings or brokers/ it still holds: it would refuse every client alike.
  bool allow_empty_tree = false;
};

class ConfigPlane final : public UpdateCallbacks {
 public:
  explicit ConfigPlane(ConfigStore& store, PlaneOptions options = {}) : store_(store), options_(options) {}

  void on_tree(RawTree tree) override;
  void on_brokers(std::string_view source, std::vector<std::string> brokers) override;
  void on_source_error(std::string_view source, std::string_view message) override;

  // Every source heard from so far, in the order first heard.
  std::vector<SourceHealth> source_health() const;

  // True once a registry tree has been published (used by `start: wait`).
  bool registry_applied() const;

  // The config health brokers apply to while no registry tree has arrived; set it when no
  // registry is watched, so service discovery works with config.source: none. A registry
  // tree, once there, is the base instead. REQUIRES: called before any source starts.
  void set_static_base(std::shared_ptr<const Config> base);

 private:
  // Builds from `tree` plus the health brokers and publishes; returns false if rejected.
  bool rebuild_locked(const RawTree& tree);
  // True (and the hold recorded) if `built` removes every key the registry's config in force has.
  bool held_locked(const RawTree& tree, const Config& built);
  // Logs and records a tree that failed validation.
  void reject_locked(const RawTree& tree, const Error& error);
  // Adds the health brokers to `next` and publishes it unless its content is in force.
  void publish_locked(const std::shared_ptr<Config>& next, std::chrono::steady_clock::time_point started);

  // Counts an answer (`failed` false) or an error from `source`.
  void note_source(std::string_view source, bool failed);

  ConfigStore& store_;
  const PlaneOptions options_;
  mutable std::mutex health_mutex_;  // guards health_ only: a scrape never waits for a build
  std::vector<SourceHealth> health_;
  mutable std::mutex mutex_;
  std::shared_ptr<const RawTree> tree_;                     // latest tree from the registry
  std::shared_ptr<const RawTree> good_tree_;                // latest tree that built: a broker change applies
                                                            // to it while a bad edit in the registry is rejected
  std::optional<std::vector<std::string>> health_brokers_;  // latest from service discovery
  std::string health_source_;
  std::shared_ptr<const Config> static_base_;  // see set_static_base; null with a registry
  bool registry_applied_ = false;
  bool published_ = false;        // this plane has published (so the config in force is its own)
  std::size_t applied_keys_ = 0;  // keys of the last registry tree applied (0 before any)
};

}  // namespace intake::config
