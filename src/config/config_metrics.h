// The config plane's metrics: declared here and written from the store's snapshot and counters.
#pragma once

#include "config/store.h"
#include "metrics/metric.h"

namespace intake::config {

metrics::MetricList config_metric_families();
void write_config_metrics(const ConfigStore& store, metrics::MetricSink& out);

}  // namespace intake::config
