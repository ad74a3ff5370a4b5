// The idempotency cache's metrics: declared here and written from IdempotencyStats.
#pragma once

#include "api/idempotency_cache.h"
#include "metrics/metric.h"

namespace intake::api {

metrics::MetricList idempotency_metric_families();
void write_idempotency_metrics(const IdempotencyStats& stats, metrics::MetricSink& out);

}  // namespace intake::api
