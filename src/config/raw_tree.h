// RawTree: a registry's subtree as plain key → value text, the common currency between every
// source (Consul, etcd, ZooKeeper, file) and the config builder. Sources only fetch and decode;
// all meaning and validation lives in the builder (config/builder.h).
#pragma once

#include <map>
#include <string>

namespace intake::config {

struct RawTree {
  std::string prefix;  // as the registry names it, e.g. "intake/"; for messages
  // Keys relative to the prefix ("keys/team-a", "settings"), sorted; a registry value that is
  // null (Consul) is an empty string.
  std::map<std::string, std::string> entries;
  std::string source;    // "consul", "etcd", ...
  std::string revision;  // the registry's revision of this snapshot, e.g. an X-Consul-Index
};

}  // namespace intake::config
