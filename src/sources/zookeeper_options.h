// ZooKeeper's options (the YAML's config.zookeeper) and the ZooKeeperSource's report pace.
// Plain values with defaults; filled by config/static_config.cc, the only code that knows YAML.
#pragma once

#include <chrono>
#include <string>

namespace intake::sources {

struct ZooKeeperOptions {
  std::string hosts = "127.0.0.1:2181";               // "h1:p1,h2:p2", optionally with a chroot "/path"
  std::string root = "/intake";                       // absolute; normalized by the source's constructor
  std::chrono::milliseconds session_timeout{10'000};  // the server clamps it to [2, 20] ticks
  // Not set by the YAML.
  std::chrono::milliseconds report_interval{10};  // the least time between two reports
};

}  // namespace intake::sources
