// GET /metrics: Prometheus text exposition (format 0.0.4) of what the gateway counts. Each
// module declares its metric families and writes their samples (metrics/metric.h) from a
// collector the wiring registers (app/gateway.cc), so this handler knows the format and
// nothing about the modules. Metrics carry no secrets, so by default no authentication: keep
// the port private as with any exporter (server.admin_listen serves /metrics on a listener of
// its own), or require the admin token (admin.metrics_require_token).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/digest.h"
#include "http/router.h"
#include "metrics/metric.h"

namespace intake::ops {

// Writes metric families in Prometheus text: one HELP and TYPE line per family, then its samples.
class MetricsWriter final : public metrics::MetricSink {
 public:
  void sample(const metrics::MetricFamily& family, double value, std::string_view labels = {}) override;
  void histogram(const metrics::MetricFamily& family, const metrics::HistogramSample& histogram,
                 std::string_view labels = {}) override;
  std::string take() { return std::move(out_); }

 private:
  // HELP and TYPE when `family` starts.
  void begin(const metrics::MetricFamily& family);
  // One line: name + suffix {labels[,extra]} value.
  void line(const metrics::MetricFamily& family, std::string_view suffix, std::string_view labels,
            std::string_view extra, double value);

  std::string out_;
  const metrics::MetricFamily* last_family_ = nullptr;
};

class MetricsHandler final : public http::Handler {
 public:
  using Collector = std::function<void(metrics::MetricSink&)>;
  // With `required_token`, a scrape must send it as the admin token (else 401 unauthorized_admin).
  explicit MetricsHandler(std::optional<crypto::Sha256> required_token = std::nullopt)
      : required_token_(required_token) {}
  // REQUIRES: called before the server starts.
  void add(Collector collector) { collectors_.push_back(std::move(collector)); }
  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  std::optional<crypto::Sha256> required_token_;
  std::vector<Collector> collectors_;
};

}  // namespace intake::ops
