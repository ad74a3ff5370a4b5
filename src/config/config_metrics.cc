#include "config/config_metrics.h"

#include <chrono>
#include <string>

namespace intake::config {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kVersion{"intake_config_version", "Version of the config in force", MetricType::kGauge};
constexpr MetricFamily kKeys{"intake_config_keys", "API keys in the config in force", MetricType::kGauge};
constexpr MetricFamily kPublished{"intake_config_published_total", "Configs published", MetricType::kCounter};
constexpr MetricFamily kRejected{"intake_config_rejected_total",
                                 "Registry updates rejected (the last good config stayed)", MetricType::kCounter};

constexpr MetricFamily kEmptyTreeHeld{"intake_config_empty_tree_held",
                                      "1 while the registry's latest answer would remove every API key and is held "
                                      "(the last good config stays; config.allow_empty_tree)",
                                      MetricType::kGauge};
constexpr MetricFamily kEmptyTreeHeldTotal{"intake_config_empty_tree_held_total",
                                           "Registry answers held because they would remove every API key",
                                           MetricType::kCounter};

constexpr MetricFamily kLastApplied{"intake_config_last_applied_timestamp_seconds",
                                    "When the config in force was published, in Unix seconds (absent before the first)",
                                    MetricType::kGauge};
constexpr MetricFamily kSourceErrors{"intake_config_source_errors_total",
                                     "Watch errors a config source reported (unreachable, bad answer), by source",
                                     MetricType::kCounter};
constexpr MetricFamily kSourceLastSuccess{"intake_config_source_last_success_timestamp_seconds",
                                          "When a config source last answered (a tree or a broker list), in Unix "
                                          "seconds, by source",
                                          MetricType::kGauge};

constexpr const MetricFamily* kFamilies[] = {&kVersion,     &kKeys,          &kPublished,
                                             &kRejected,    &kEmptyTreeHeld, &kEmptyTreeHeldTotal,
                                             &kLastApplied, &kSourceErrors,  &kSourceLastSuccess};

double unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

}  // namespace

metrics::MetricList config_metric_families() { return kFamilies; }

void write_config_metrics(const ConfigStore& store, metrics::MetricSink& out) {
  const auto config = store.current();
  const auto counters = store.counters();
  out.sample(kVersion, static_cast<double>(config->version));
  out.sample(kKeys, static_cast<double>(config->keys.size()));
  out.sample(kPublished, static_cast<double>(counters.published));
  out.sample(kRejected, static_cast<double>(counters.rejected));
  out.sample(kEmptyTreeHeld, store.held() ? 1 : 0);
  out.sample(kEmptyTreeHeldTotal, static_cast<double>(counters.held));
  if (config->version > 0) out.sample(kLastApplied, unix_seconds(config->applied_at));
}

void write_source_metrics(const ConfigPlane& plane, metrics::MetricSink& out) {
  const auto sources = plane.source_health();
  // Source names are fixed words (consul_kv, etcd, ...): nothing to escape.
  for (const auto& source : sources) {
    out.sample(kSourceErrors, static_cast<double>(source.errors), "source=\"" + source.source + "\"");
  }
  for (const auto& source : sources) {
    if (source.last_success == std::chrono::system_clock::time_point{}) continue;
    out.sample(kSourceLastSuccess, unix_seconds(source.last_success), "source=\"" + source.source + "\"");
  }
}

}  // namespace intake::config
