// The rate limiter's metrics: declared here and written from RateLimiter's counter.
#pragma once

#include "metrics/metric.h"
#include "policy/rate_limiter.h"

namespace intake::policy {

metrics::MetricList rate_limiter_metric_families();
void write_rate_limiter_metrics(const RateLimiter& limiter, metrics::MetricSink& out);

}  // namespace intake::policy
