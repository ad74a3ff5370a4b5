#include "kafka/producer_metrics.h"

#include <string>
#include <vector>

namespace intake::kafka {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kProduced{"intake_records_produced_total", "Records handed to the Kafka producer",
                                 MetricType::kCounter};
constexpr MetricFamily kDelivered{"intake_records_delivered_total", "Records Kafka acknowledged", MetricType::kCounter};
constexpr MetricFamily kFailed{"intake_records_failed_total",
                               "Deliveries that failed after librdkafka's retries, by reason", MetricType::kCounter};
constexpr MetricFamily kHandedOver{
    "intake_records_handed_over_total",
    "Records moved to a new producer after a broker-set change or a fatal producer error", MetricType::kCounter};
constexpr MetricFamily kFatalRecoveries{"intake_kafka_fatal_recoveries_total",
                                        "Fresh Kafka producers started after the idempotent producer hit a fatal error",
                                        MetricType::kCounter};

constexpr MetricFamily kInflightRecords{"intake_kafka_inflight_records",
                                        "Records handed to the Kafka producer and not yet acknowledged or failed",
                                        MetricType::kGauge};
constexpr MetricFamily kInflightBytes{"intake_kafka_inflight_bytes",
                                      "Key and value bytes of the records in intake_kafka_inflight_records",
                                      MetricType::kGauge};
constexpr MetricFamily kProduceLatency{"intake_produce_latency_seconds",
                                       "Time from handing a record to the Kafka producer to Kafka's acknowledgement "
                                       "(delivered records)",
                                       MetricType::kHistogram};

constexpr const MetricFamily* kFamilies[] = {&kProduced,        &kDelivered,       &kFailed,        &kHandedOver,
                                             &kFatalRecoveries, &kInflightRecords, &kInflightBytes, &kProduceLatency};

double number(const std::atomic<std::uint64_t>& counter) { return static_cast<double>(counter.load()); }

}  // namespace

metrics::MetricList producer_metric_families() { return kFamilies; }

void write_producer_metrics(const ProducerCounters& counters, metrics::MetricSink& out) {
  out.sample(kProduced, number(counters.enqueued));
  out.sample(kDelivered, number(counters.delivered));
  for (std::size_t i = 0; i < counters.failed_by_reason.size(); ++i) {
    const auto reason = failure_reason_name(static_cast<FailureReason>(i));
    out.sample(kFailed, number(counters.failed_by_reason[i]), "reason=\"" + std::string(reason) + "\"");
  }
  out.sample(kHandedOver, number(counters.handed_over));
  out.sample(kFatalRecoveries, number(counters.fatal_recoveries));
  out.sample(kInflightRecords, static_cast<double>(counters.inflight_records.load(std::memory_order_relaxed)));
  out.sample(kInflightBytes, static_cast<double>(counters.inflight_bytes.load(std::memory_order_relaxed)));
  std::vector<std::uint64_t> counts;
  double sum = 0;
  counters.produce_latency.read(0, counts, sum);
  out.histogram(kProduceLatency, {counters.produce_latency.bounds(), counts, sum});
}

}  // namespace intake::kafka
