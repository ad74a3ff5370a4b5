// What a metric is, apart from how it is exposed: each module declares its families (name,
// help, type) next to the code that counts them and writes its samples to a MetricSink; ops/
// turns samples into Prometheus text. So a metric's name and help are written once, where it
// is counted.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace intake::metrics {

enum class MetricType : std::uint8_t { kCounter, kGauge };

constexpr std::string_view type_name(MetricType type) { return type == MetricType::kCounter ? "counter" : "gauge"; }

struct MetricFamily {
  std::string_view name;  // intake_..., counters end in _total
  std::string_view help;
  MetricType type;
};

// A module's families, for the exporter and for the test that keeps docs/metrics.md honest.
using MetricList = std::span<const MetricFamily* const>;

class MetricSink {
 public:
  virtual ~MetricSink() = default;
  // One sample of `family`. `labels` is the inside of the braces, e.g. reason="timed_out"
  // (already escaped), or empty. Samples of one family are written one after another.
  virtual void sample(const MetricFamily& family, double value, std::string_view labels = {}) = 0;
};

}  // namespace intake::metrics
