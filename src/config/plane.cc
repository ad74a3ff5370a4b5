#include "config/plane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "config/builder.h"
#include "config/config_diff.h"
#include "crypto/digest.h"
#include "logging/structured.h"

namespace intake::config {
namespace {

std::string_view changed_text(bool changed) { return changed ? "changed" : "unchanged"; }

// One line per published config: what it holds and what changed since the last — key ids and
// topic names only (secrets and their digests never leave the snapshot).
void log_change(const Config& before, const Config& after, double build_ms) {
  const ConfigDiff diff = diff_configs(before, after);
  const std::string message =
      "config: applied version " + std::to_string(after.version) + " from " + after.source + " at revision " +
      after.revision + ": keys +" + std::to_string(diff.keys_added.size()) + " -" +
      std::to_string(diff.keys_removed.size()) + " ~" + std::to_string(diff.keys_changed.size()) + ", topics +" +
      std::to_string(diff.topics_added.size()) + " -" + std::to_string(diff.topics_removed.size()) + " ~" +
      std::to_string(diff.topics_changed.size()) + ", brokers " + std::string(changed_text(diff.brokers_changed)) +
      ", settings " + std::string(changed_text(diff.settings_changed));
  const std::string added = join_names(diff.keys_added);
  const std::string removed = join_names(diff.keys_removed);
  const std::string changed = join_names(diff.keys_changed);
  const std::string topics_added = join_names(diff.topics_added);
  const std::string topics_removed = join_names(diff.topics_removed);
  const std::string topics_changed = join_names(diff.topics_changed);
  const std::string brokers_before = join_names(before.brokers);
  const std::string brokers_after = join_names(after.brokers);
  logging::event(spdlog::level::info, message,
                 {{"event", std::string_view("config_change")},
                  {"version", after.version},
                  {"previous_version", before.version},
                  {"source", std::string_view(after.source)},
                  {"revision", std::string_view(after.revision)},
                  {"keys", static_cast<std::uint64_t>(after.keys.size())},
                  {"keys_added", std::string_view(added)},
                  {"keys_removed", std::string_view(removed)},
                  {"keys_changed", std::string_view(changed)},
                  {"topics_added", std::string_view(topics_added)},
                  {"topics_removed", std::string_view(topics_removed)},
                  {"topics_changed", std::string_view(topics_changed)},
                  {"brokers_changed", diff.brokers_changed},
                  {"brokers_before", std::string_view(brokers_before)},
                  {"brokers", std::string_view(brokers_after)},
                  {"settings_changed", diff.settings_changed},
                  {"build_ms", build_ms}});
}

}  // namespace

void ConfigPlane::note_source(std::string_view source, bool failed) {
  std::lock_guard lock(health_mutex_);
  auto it = std::find_if(health_.begin(), health_.end(), [&](const SourceHealth& h) { return h.source == source; });
  if (it == health_.end()) it = health_.insert(health_.end(), SourceHealth{std::string(source), 0, {}});
  if (failed) {
    ++it->errors;
  } else {
    it->last_success = std::chrono::system_clock::now();
  }
}

std::vector<SourceHealth> ConfigPlane::source_health() const {
  std::lock_guard lock(health_mutex_);
  return health_;
}

void ConfigPlane::on_tree(RawTree tree) {
  note_source(tree.source, false);
  std::lock_guard lock(mutex_);
  tree_ = std::make_shared<const RawTree>(std::move(tree));
  const auto started = std::chrono::steady_clock::now();
  auto built = build_config(*tree_);
  if (built && held_locked(*tree_, *built.value())) return;
  if (store_.clear_hold()) {
    spdlog::info("config: {} at revision {} is no longer empty; the hold on empty trees ends", tree_->source,
                 tree_->revision);
  }
  if (!built) {
    reject_locked(*tree_, built.error());
    return;
  }
  applied_keys_ = built.value()->keys.size();
  publish_locked(std::move(built).value(), started);
  registry_applied_ = true;
  good_tree_ = tree_;
}

bool ConfigPlane::held_locked(const RawTree& tree, const Config& built) {
  if (options_.allow_empty_tree || !built.keys.empty() || applied_keys_ == 0) return false;
  const auto version = store_.current()->version;
  const std::string reason = "the answer has no keys/ entry and would remove all " + std::to_string(applied_keys_) +
                             " API keys; set config.allow_empty_tree: true to let an empty tree apply";
  if (store_.hold({tree.source, tree.revision, built.content_hash, reason, {}})) {
    spdlog::error("config: held update from {} at revision {}: {} (config version {} stays in force)", tree.source,
                  tree.revision, reason, version);
  }
  return true;
}

void ConfigPlane::reject_locked(const RawTree& tree, const Error& error) {
  spdlog::error("config: rejected update from {} at revision {}: {} (config version {} stays in force)", tree.source,
                tree.revision, error.message, store_.current()->version);
  store_.reject({tree.source, tree.revision, error.message, {}});
}

void ConfigPlane::on_brokers(std::string_view source, std::vector<std::string> brokers) {
  note_source(source, false);
  std::lock_guard lock(mutex_);
  std::sort(brokers.begin(), brokers.end());
  health_source_ = std::string(source);
  health_brokers_ = std::move(brokers);
  if (good_tree_) {
    rebuild_locked(*good_tree_);
  } else if (tree_) {
    if (rebuild_locked(*tree_)) good_tree_ = tree_;
  } else if (static_base_) {
    publish_locked(std::make_shared<Config>(*static_base_), std::chrono::steady_clock::now());
  }
}

void ConfigPlane::set_static_base(std::shared_ptr<const Config> base) {
  std::lock_guard lock(mutex_);
  static_base_ = std::move(base);
}

void ConfigPlane::on_source_error(std::string_view source, std::string_view message) {
  note_source(source, true);
  spdlog::warn("config: {}: {}", source, message);
}

bool ConfigPlane::registry_applied() const {
  std::lock_guard lock(mutex_);
  return registry_applied_;
}

bool ConfigPlane::rebuild_locked(const RawTree& tree) {
  const auto started = std::chrono::steady_clock::now();
  auto built = build_config(tree);
  if (!built) {
    reject_locked(tree, built.error());
    return false;
  }
  applied_keys_ = built.value()->keys.size();
  publish_locked(std::move(built).value(), started);
  registry_applied_ = true;
  return true;
}

void ConfigPlane::publish_locked(const std::shared_ptr<Config>& next, std::chrono::steady_clock::time_point started) {
  if (health_brokers_) {
    std::set<std::string> merged(next->brokers.begin(), next->brokers.end());
    merged.insert(health_brokers_->begin(), health_brokers_->end());
    next->brokers.assign(merged.begin(), merged.end());
    // The hash covers what was built from, including the health answer.
    std::string material = next->content_hash;
    for (const auto& broker : *health_brokers_) material += "|" + broker;
    next->content_hash = crypto::to_hex(crypto::sha256(material));
  }
  const auto current = store_.current();
  if (published_ && current->content_hash == next->content_hash) {
    store_.note_unchanged();
    return;
  }
  const auto build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  store_.publish(next);
  published_ = true;
  log_change(*current, *store_.current(), build_ms);
}

}  // namespace intake::config
