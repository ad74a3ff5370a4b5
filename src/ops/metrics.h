// GET /metrics: Prometheus text exposition (format 0.0.4) of what the gateway counts. Each
// module declares its metric families and writes their samples (metrics/metric.h) from a
// collector the wiring registers (app/gateway.cc), so this handler knows the format and
// nothing about the modules. No authentication: metrics carry no
// secrets; keep the port private as with any exporter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"
#include "metrics/metric.h"

namespace intake::ops {

// Writes metric families in Prometheus text: one HELP and TYPE line per family, then its samples.
class MetricsWriter final : public metrics::MetricSink {
 public:
  void sample(const metrics::MetricFamily& family, double value, std::string_view labels = {}) override;
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  const metrics::MetricFamily* last_family_ = nullptr;
};

class MetricsHandler final : public http::Handler {
 public:
  using Collector = std::function<void(metrics::MetricSink&)>;
  // REQUIRES: called before the server starts.
  void add(Collector collector) { collectors_.push_back(std::move(collector)); }
  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  std::vector<Collector> collectors_;
};

}  // namespace intake::ops
