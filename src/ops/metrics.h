// GET /metrics: Prometheus text exposition (format 0.0.4) of what the gateway counts. Each
// module's numbers are written by a collector the wiring registers (app/gateway.cc), so this
// handler knows the format and nothing about the modules. No authentication: metrics carry no
// secrets; keep the port private as with any exporter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.h"

namespace intake::ops {

// Writes metric families: one HELP and TYPE line per name, then its samples.
class MetricsWriter {
 public:
  // `labels` is the inside of the braces, e.g. reason="timed_out" (already escaped), or empty.
  void counter(std::string_view name, std::string_view help, double value, std::string_view labels = {});
  void gauge(std::string_view name, std::string_view help, double value, std::string_view labels = {});
  std::string take() { return std::move(out_); }

 private:
  void sample(std::string_view type, std::string_view name, std::string_view help, double value,
              std::string_view labels);
  std::string out_;
  std::string last_family_;
};

class MetricsHandler final : public http::Handler {
 public:
  using Collector = std::function<void(MetricsWriter&)>;
  // REQUIRES: called before the server starts.
  void add(Collector collector) { collectors_.push_back(std::move(collector)); }
  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  std::vector<Collector> collectors_;
};

}  // namespace intake::ops
