// What changed between two config snapshots, for the one log line each published config gets:
// key ids and topic names (never secrets or their digests), whether the brokers or the
// settings changed.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace intake::config {

struct ConfigDiff {
  std::vector<std::string> keys_added;  // key ids, sorted
  std::vector<std::string> keys_removed;
  std::vector<std::string> keys_changed;  // same id, any right, limit or credential changed
  std::vector<std::string> topics_added;  // topic policies, sorted
  std::vector<std::string> topics_removed;
  std::vector<std::string> topics_changed;
  bool brokers_changed = false;
  bool settings_changed = false;
};

ConfigDiff diff_configs(const Config& before, const Config& after);

// "a,b,c" — at most `limit` names, then "+N more": a log line stays short when a whole
// registry tree changes at once.
std::string join_names(const std::vector<std::string>& names, std::size_t limit = 20);

}  // namespace intake::config
