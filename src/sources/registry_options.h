// Where live configuration comes from (the YAML's config:): which source holds the keys, whether
// serving waits for it, and every source's options. The YAML's own keys are the bootstrap and
// the fallback. Plain values with defaults; filled by config/static_config.cc, the only code
// that knows YAML.
#pragma once

#include <cstdint>

#include "sources/consul_options.h"
#include "sources/etcd_options.h"
#include "sources/file_options.h"
#include "sources/zookeeper_options.h"

namespace intake::sources {

struct RegistryOptions {
  enum class Kind : std::uint8_t { kNone, kConsul, kEtcd, kZooKeeper, kFile };
  Kind source = Kind::kNone;
  // false: serve with the YAML's keys until the registry answers; true: wait for the registry.
  bool wait_at_start = false;
  // false: an answer with no keys after one with keys is held (config/plane.h); true: applied.
  bool allow_empty_tree = false;
  ConsulOptions consul;  // consul.broker_service also works beside another source
  EtcdOptions etcd;
  ZooKeeperOptions zookeeper;
  FileOptions file;
};

}  // namespace intake::sources
