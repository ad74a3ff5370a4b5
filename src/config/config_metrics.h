// The config plane's metrics: declared here and written from the store's snapshot and counters.
#pragma once

#include "config/plane.h"
#include "config/store.h"
#include "metrics/metric.h"

namespace intake::config {

metrics::MetricList config_metric_families();
void write_config_metrics(const ConfigStore& store, metrics::MetricSink& out);
// Per source: errors reported and the time of its last answer.
void write_source_metrics(const ConfigPlane& plane, metrics::MetricSink& out);

}  // namespace intake::config
