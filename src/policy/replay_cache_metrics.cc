#include "policy/replay_cache_metrics.h"

namespace intake::policy {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kEntries{
    "intake_signature_replay_entries",
    "Signed requests' replay entries held (reserved, accepted or released), not yet expired", MetricType::kGauge};
constexpr MetricFamily kBytes{"intake_signature_replay_bytes",
                              "Bytes the replay entries count against signing.replay_cache_max_bytes",
                              MetricType::kGauge};
constexpr MetricFamily kReplays{"intake_signature_replays_refused_total",
                                "Signed requests refused 401 signature_replayed", MetricType::kCounter};
constexpr MetricFamily kFull{"intake_signature_replay_cache_full_total",
                             "Signed requests refused 503 server_busy: the replay cache was full and nothing had "
                             "expired",
                             MetricType::kCounter};

constexpr const MetricFamily* kFamilies[] = {&kEntries, &kBytes, &kReplays, &kFull};

double load(const std::atomic<std::uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}

}  // namespace

metrics::MetricList replay_cache_metric_families() { return kFamilies; }

void write_replay_cache_metrics(const ReplayStats& stats, metrics::MetricSink& out) {
  out.sample(kEntries, load(stats.entries));
  out.sample(kBytes, load(stats.bytes));
  out.sample(kReplays, load(stats.replays_refused));
  out.sample(kFull, load(stats.refused_full));
}

}  // namespace intake::policy
