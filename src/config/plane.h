// ConfigPlane: turns what sources report into published Configs. Builds and validates the
// whole config from the latest registry tree plus the latest healthy-broker list, publishes
// only when content changed, and records a rejection (keeping the last good config) when
// validation fails.
//
// Thread-safety: the callbacks may be called from any thread; they serialize on a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/store.h"
#include "config/updates.h"

namespace intake::config {

class ConfigPlane final : public UpdateCallbacks {
 public:
  explicit ConfigPlane(ConfigStore& store) : store_(store) {}

  void on_tree(RawTree tree) override;
  void on_brokers(std::string_view source, std::vector<std::string> brokers) override;
  void on_source_error(std::string_view source, std::string_view message) override;

  // True once a registry tree has been published (used by `start: wait`).
  bool registry_applied() const;

 private:
  // Builds from `tree` plus the health brokers and publishes; returns false if rejected.
  bool rebuild_locked(const RawTree& tree);

  ConfigStore& store_;
  mutable std::mutex mutex_;
  std::shared_ptr<const RawTree> tree_;       // latest tree from the registry
  std::shared_ptr<const RawTree> good_tree_;  // latest tree that built: a broker change applies
                                              // to it while a bad edit in the registry is rejected
  std::optional<std::vector<std::string>> health_brokers_;  // latest from service discovery
  std::string health_source_;
  bool registry_applied_ = false;
};

}  // namespace intake::config
