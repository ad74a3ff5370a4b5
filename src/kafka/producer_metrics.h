// The Kafka producer's metrics: declared here, next to ProducerCounters, and written from them.
#pragma once

#include "kafka/producer.h"
#include "metrics/metric.h"

namespace intake::kafka {

metrics::MetricList producer_metric_families();
void write_producer_metrics(const ProducerCounters& counters, metrics::MetricSink& out);

}  // namespace intake::kafka
