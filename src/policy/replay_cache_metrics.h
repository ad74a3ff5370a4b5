// The signed requests' replay cache's metrics: declared here and written from ReplayStats.
#pragma once

#include "metrics/metric.h"
#include "policy/replay_cache.h"

namespace intake::policy {

metrics::MetricList replay_cache_metric_families();
void write_replay_cache_metrics(const ReplayStats& stats, metrics::MetricSink& out);

}  // namespace intake::policy
