#include "api/idempotency_metrics.h"

namespace intake::api {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kEntries{"intake_idempotency_entries", "Idempotency-Key entries held, in flight and answered",
                                MetricType::kGauge};
constexpr MetricFamily kBytes{"intake_idempotency_bytes",
                              "Bytes the idempotency cache counts against its budget (keys, paths, stored bodies)",
                              MetricType::kGauge};
constexpr MetricFamily kReplays{"intake_idempotency_replays_total",
                                "Retries answered with the stored answer of the first request", MetricType::kCounter};
constexpr MetricFamily kMismatches{"intake_idempotency_mismatches_total",
                                   "Requests refused 422: their Idempotency-Key was used with another body or path",
                                   MetricType::kCounter};
constexpr MetricFamily kInProgress{"intake_idempotency_in_progress_total",
                                   "Requests refused 409: the first request with their Idempotency-Key still ran",
                                   MetricType::kCounter};
constexpr MetricFamily kEvictions{"intake_idempotency_evictions_total",
                                  "Entries evicted over the byte budget, by state (in_flight: its retry is "
                                  "processed again)",
                                  MetricType::kCounter};

constexpr const MetricFamily* kFamilies[] = {&kEntries, &kBytes, &kReplays, &kMismatches, &kInProgress, &kEvictions};

template <typename T>
double load(const std::atomic<T>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

metrics::MetricList idempotency_metric_families() { return kFamilies; }

void write_idempotency_metrics(const IdempotencyStats& stats, metrics::MetricSink& out) {
  out.sample(kEntries, load(stats.entries));
  out.sample(kBytes, load(stats.bytes));
  out.sample(kReplays, load(stats.replays));
  out.sample(kMismatches, load(stats.mismatches));
  out.sample(kInProgress, load(stats.in_progress));
  out.sample(kEvictions, load(stats.evictions_done), "state=\"done\"");
  out.sample(kEvictions, load(stats.evictions_in_flight), "state=\"in_flight\"");
}

}  // namespace intake::api
