// GET /healthz (liveness: the process serves HTTP) and GET /readyz (readiness: a config is
// loaded, Kafka is reachable and we are not draining). Load balancers should route on /readyz.
#pragma once

#include <atomic>

#include "http/router.h"
#include "kafka/record_sink.h"

namespace intake::ops {

class HealthHandler final : public http::Handler {
 public:
  enum class Probe { kLiveness, kReadiness };
  HealthHandler(Probe probe, const kafka::RecordSink& sink, const std::atomic<bool>& draining)
      : probe_(probe), sink_(sink), draining_(draining) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  Probe probe_;
  const kafka::RecordSink& sink_;
  const std::atomic<bool>& draining_;
};

}  // namespace intake::ops
