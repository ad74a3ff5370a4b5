#include "config/config_metrics.h"

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

constexpr const MetricFamily* kFamilies[] = {&kVersion,  &kKeys,          &kPublished,
                                             &kRejected, &kEmptyTreeHeld, &kEmptyTreeHeldTotal};

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
}

}  // namespace intake::config
