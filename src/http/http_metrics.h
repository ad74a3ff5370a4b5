// The connection layer's metrics: declared here, next to ServerCounters, and written from the
// server's counters and gauges.
#pragma once

#include "http/server.h"
#include "metrics/metric.h"

namespace intake::http {

metrics::MetricList server_metric_families();
void write_server_metrics(const HttpServer& server, metrics::MetricSink& out);

}  // namespace intake::http
