// Gateway: wires the modules together for `intake run`. The only place that knows them all.
#pragma once

#include <atomic>
#include <memory>

#include "api/produce_handler.h"
#include "config/static_config.h"
#include "config/store.h"
#include "http/router.h"
#include "http/server.h"
#include "kafka/producer.h"
#include "ops/health_handler.h"

namespace intake::app {

class Gateway {
 public:
  // Throws at start-up for anything misconfigured (bad Kafka properties, cannot bind).
  explicit Gateway(config::StaticConfig file);

  void start();
  std::uint16_t port() const { return server_.port(); }

  // Drains and stops: readiness fails, listeners close, queued records are flushed.
  // Returns the number of records that could not be delivered (0 = nothing lost).
  std::uint64_t shutdown();

 private:
  config::StaticConfig file_;
  config::ConfigStore store_;
  std::atomic<bool> draining_{false};
  kafka::KafkaProducer producer_;
  api::ProduceHandler produce_;
  ops::HealthHandler liveness_;
  ops::HealthHandler readiness_;
  http::Router router_;
  http::HttpServer server_;
};

}  // namespace intake::app
