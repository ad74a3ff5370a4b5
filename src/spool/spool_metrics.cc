#include "spool/spool_metrics.h"

namespace intake::spool {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kSpooled{"intake_records_spooled_total", "Accepted records the disk spool took instead of Kafka",
                                MetricType::kCounter};
constexpr MetricFamily kReplayed{"intake_records_replayed_total", "Spooled records handed to Kafka",
                                 MetricType::kCounter};
constexpr MetricFamily kRespooled{"intake_records_respooled_total", "Failed deliveries spooled again",
                                  MetricType::kCounter};
constexpr MetricFamily kQuarantined{"intake_records_quarantined_total",
                                    "Records Kafka will never take, kept in the spool's rejected/",
                                    MetricType::kCounter};
constexpr MetricFamily kLost{"intake_records_lost_total",
                             "Accepted async records neither delivered nor kept (0 with a spool)",
                             MetricType::kCounter};

constexpr MetricFamily kBytes{"intake_spool_bytes", "Bytes in the disk spool", MetricType::kGauge};
constexpr MetricFamily kMaxBytes{"intake_spool_max_bytes", "spool.max_bytes", MetricType::kGauge};
constexpr MetricFamily kWaiting{"intake_spool_waiting_records", "Spooled records not yet handed to Kafka",
                                MetricType::kGauge};
constexpr MetricFamily kSegments{"intake_spool_segments", "Segment files in the spool", MetricType::kGauge};
constexpr MetricFamily kRecovered{"intake_spool_recovered_records_total",
                                  "Records found in the spool at start that still needed Kafka", MetricType::kCounter};
constexpr MetricFamily kTornBytes{"intake_spool_torn_bytes_total", "Bytes of torn records cut off at start",
                                  MetricType::kCounter};
constexpr MetricFamily kUnreadable{"intake_spool_unreadable_records_total",
                                   "Spooled records that no longer read back (corruption)", MetricType::kCounter};
constexpr MetricFamily kDamagedRegions{
    "intake_spool_damaged_regions_total",
    "Damaged stretches of spool segments skipped (kept in the spool's damaged/ for inspection)", MetricType::kCounter};
constexpr MetricFamily kDamagedBytes{"intake_spool_damaged_bytes_total",
                                     "Bytes of spool segments that did not read back", MetricType::kCounter};

constexpr const MetricFamily* kSinkFamilies[] = {&kSpooled, &kReplayed, &kRespooled, &kQuarantined, &kLost};
constexpr const MetricFamily* kSpoolFamilies[] = {&kBytes,      &kMaxBytes,       &kWaiting,
                                                  &kSegments,   &kRecovered,      &kTornBytes,
                                                  &kUnreadable, &kDamagedRegions, &kDamagedBytes};

double number(std::uint64_t value) { return static_cast<double>(value); }

}  // namespace

metrics::MetricList sink_metric_families() { return kSinkFamilies; }
metrics::MetricList spool_metric_families() { return kSpoolFamilies; }

void write_sink_metrics(const SinkCounters& counters, metrics::MetricSink& out) {
  out.sample(kSpooled, number(counters.spooled.load()));
  out.sample(kReplayed, number(counters.replayed.load()));
  out.sample(kRespooled, number(counters.respooled.load()));
  out.sample(kQuarantined, number(counters.quarantined.load()));
  out.sample(kLost, number(counters.lost.load()));
}

void write_spool_metrics(const SpoolStats& stats, std::uint64_t max_bytes, metrics::MetricSink& out) {
  out.sample(kBytes, number(stats.bytes));
  out.sample(kMaxBytes, number(max_bytes));
  out.sample(kWaiting, number(stats.waiting_records));
  out.sample(kSegments, number(stats.segments));
  out.sample(kRecovered, number(stats.recovered));
  out.sample(kTornBytes, number(stats.torn_bytes));
  out.sample(kUnreadable, number(stats.unreadable));
  out.sample(kDamagedRegions, number(stats.damaged_regions));
  out.sample(kDamagedBytes, number(stats.damaged_bytes));
}

}  // namespace intake::spool
