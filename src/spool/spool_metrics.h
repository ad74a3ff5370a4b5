// The spool's metrics, and those of the sink in front of it: declared here and written from
// SinkCounters and SpoolStats.
#pragma once

#include <cstdint>

#include "metrics/metric.h"
#include "spool/disk_spool.h"
#include "spool/spooling_sink.h"

namespace intake::spool {

// Families written by write_sink_metrics, then those of write_spool_metrics.
metrics::MetricList sink_metric_families();
metrics::MetricList spool_metric_families();

void write_sink_metrics(const SinkCounters& counters, metrics::MetricSink& out);
// Only when a spool is configured; `max_bytes` is spool.max_bytes.
void write_spool_metrics(const SpoolStats& stats, std::uint64_t max_bytes, metrics::MetricSink& out);

}  // namespace intake::spool
