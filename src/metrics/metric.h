// What a metric is, apart from how it is exposed: each module declares its families (name,
// help, type) next to the code that counts them and writes its samples to a MetricSink; ops/
// turns samples into Prometheus text. So a metric's name and help are written once, where it
// is counted.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace intake::metrics {

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };

constexpr std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

struct MetricFamily {
  std::string_view name;  // intake_..., counters end in _total, histograms in their unit (_seconds)
  std::string_view help;
  MetricType type;
};

// One histogram's state at a scrape. `counts[i]` observations fell in bucket i alone (not
// cumulative): (bounds[i-1], bounds[i]], the last one (bounds.back(), +Inf), so counts has
// bounds.size() + 1 entries. `sum` is in the family's unit (seconds).
struct HistogramSample {
  std::span<const double> bounds;  // upper bounds, ascending, without +Inf
  std::span<const std::uint64_t> counts;
  double sum = 0;
};

// A module's families, for the exporter and for the test that keeps docs/metrics.md honest.
using MetricList = std::span<const MetricFamily* const>;

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // One sample of `family`. `labels` is the inside of the braces, e.g. reason="timed_out"
  // (already escaped), or empty. Samples of one family are written one after another.
  virtual void sample(const MetricFamily& family, double value, std::string_view labels = {}) = 0;
  // One histogram of `family` (type kHistogram) with `labels`: the sink writes its cumulative
  // buckets (`le`, ending with +Inf), `_sum` and `_count`.
  virtual void histogram(const MetricFamily& family, const HistogramSample& histogram,
                         std::string_view labels = {}) = 0;
};

}  // namespace intake::metrics
