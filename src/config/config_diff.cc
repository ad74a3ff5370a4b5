#include "config/config_diff.h"

#include <algorithm>
#include <map>

namespace intake::config {
namespace {

bool same_rate(const std::optional<RateLimit>& a, const std::optional<RateLimit>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->records_per_sec == b->records_per_sec && a->burst == b->burst && a->bytes_per_sec == b->bytes_per_sec &&
         a->bytes_burst == b->bytes_burst;
}

bool same_key(const ApiKey& a, const ApiKey& b) {
  return a.secret_sha256 == b.secret_sha256 && a.topic_patterns == b.topic_patterns && a.enabled == b.enabled &&
         same_rate(a.rate, b.rate) && a.expires_at == b.expires_at && a.signing_secret == b.signing_secret &&
         a.client_certs == b.client_certs;
}

bool same_topic(const TopicPolicy& a, const TopicPolicy& b) {
  return a.max_record_bytes == b.max_record_bytes && a.mode == b.mode;
}

// Sorted by name, so that the diff is one merge walk and its lists come out sorted.
template <typename Value, typename Map, typename NameOf>
std::map<std::string, const Value*> by_name(const Map& map, NameOf name_of) {
  std::map<std::string, const Value*> out;
  for (const auto& [key, value] : map) out.emplace(name_of(key, value), &value);
  return out;
}

template <typename Value, typename Same>
void compare(const std::map<std::string, const Value*>& before, const std::map<std::string, const Value*>& after,
             Same same, std::vector<std::string>& added, std::vector<std::string>& removed,
             std::vector<std::string>& changed) {
  for (const auto& [name, value] : after) {
    const auto old = before.find(name);
    if (old == before.end()) {
      added.push_back(name);
    } else if (!same(*old->second, *value)) {
      changed.push_back(name);
    }
  }
  for (const auto& [name, value] : before) {
    if (!after.contains(name)) removed.push_back(name);
  }
}

}  // namespace

ConfigDiff diff_configs(const Config& before, const Config& after) {
  ConfigDiff diff;
  const auto key_id = [](const auto& /*digest*/, const ApiKey& key) { return key.id; };
  const auto topic_name = [](const std::string& name, const TopicPolicy& /*policy*/) { return name; };
  compare(by_name<ApiKey>(before.keys, key_id), by_name<ApiKey>(after.keys, key_id), same_key, diff.keys_added,
          diff.keys_removed, diff.keys_changed);
  compare(by_name<TopicPolicy>(before.topics, topic_name), by_name<TopicPolicy>(after.topics, topic_name), same_topic,
          diff.topics_added, diff.topics_removed, diff.topics_changed);
  diff.brokers_changed = before.brokers != after.brokers;
  diff.settings_changed = before.settings.default_mode != after.settings.default_mode ||
                          before.settings.max_record_bytes != after.settings.max_record_bytes ||
                          before.settings.signature_window_s != after.settings.signature_window_s;
  return diff;
}

std::string join_names(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  const std::size_t shown = std::min(limit, names.size());
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out.push_back(',');
    out.append(names[i]);
  }
  if (names.size() > shown) out.append(",+").append(std::to_string(names.size() - shown)).append(" more");
  return out;
}

}  // namespace intake::config
