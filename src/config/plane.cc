#include "config/plane.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "config/builder.h"
#include "crypto/digest.h"

namespace intake::config {

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
  const auto version = store_.publish(next);
  published_ = true;
  spdlog::info(
      "config: applied version {} from {} at revision {}: {} keys, {} topic policies, {} brokers "
      "(was {} keys, {} brokers; built in {:.1f} ms)",
      version, next->source, next->revision, next->keys.size(), next->topics.size(), next->brokers.size(),
      current->keys.size(), current->brokers.size(), build_ms);
}

}  // namespace intake::config
