// Gateway: wires the modules together for `intake run`. The only place that knows them all.
//
// Start-up order: producer, spool (recovering what an earlier run left), config store (YAML
// keys), control loop with the registry sources, then the HTTP listeners and the Consul
// registration. Shutdown reverses it: the Consul service is deregistered, readiness fails,
// listeners close, the control loop stops (cancelling in-flight long
// polls at once), the spool's feeder stops, the producer drains into Kafka and what is left
// goes to the spool.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "api/batch_handler.h"
#include "api/confluent_v2_handler.h"
#include "api/confluent_v3_handler.h"
#include "api/idempotent_handler.h"
#include "api/produce_gate.h"
#include "api/single_record_handler.h"
#include "config/plane.h"
#include "config/static_config.h"
#include "config/store.h"
#include "http/router.h"
#include "http/server.h"
#include "kafka/producer.h"
#include "ops/access_log.h"
#include "ops/admin_handler.h"
#include "ops/health_handler.h"
#include "ops/log_level_handler.h"
#include "ops/metrics.h"
#include "ops/request_metrics.h"
#include "sources/consul_registration.h"
#include "sources/source.h"
#include "spool/disk_spool.h"
#include "spool/spooling_sink.h"

namespace intake::app {

class Gateway {
 public:
  // Throws at start-up for anything misconfigured (bad Kafka properties, bad addresses).
  explicit Gateway(config::StaticConfig file);
  ~Gateway();

  // Starts the registry sources on the control thread (none for source: none).
  void start_config_sources();
  // False only while `on_unreachable_at_start: wait` holds serving back for the registry.
  bool ready_to_serve() const;
  // Binds and serves HTTP. Throws if the address cannot be bound.
  void start_serving();
  std::uint16_t port() const { return server_.port(); }
  // Whether every event loop (the listeners' workers and the control loop) ran a posted
  // no-op within `timeout`: the service manager's watchdog pings only while this holds.
  // REQUIRES: start_serving() returned. Call from a thread that runs none of the loops.
  bool event_loops_turn(std::chrono::milliseconds timeout) const;
  // The admin listener's port (server.admin_listen), or 0 without one.
  std::uint16_t admin_port() const { return admin_server_ ? admin_server_->port() : 0; }

  // Drains and stops: what Kafka has not taken by kafka.shutdown_flush_ms goes to the spool.
  // Returns the number of accepted records neither delivered nor kept (0 = none lost).
  std::uint64_t shutdown();

 private:
  struct Control;
  void register_metrics();
  config::StaticConfig file_;
  config::ConfigStore store_;
  policy::RateLimiter limiter_;  // per-key buckets, beside the immutable snapshots
  config::ConfigPlane plane_{store_, {.allow_empty_tree = file_.registry.allow_empty_tree}};
  std::atomic<bool> draining_{false};
  kafka::KafkaProducer producer_;
  std::unique_ptr<spool::DiskSpool> spool_;  // null without spool.dir
  spool::SpoolingSink sink_;
  std::vector<std::unique_ptr<sources::Source>> sources_;
  // consul_registration.enabled: this gateway in Consul while it serves; null otherwise.
  // Before control_ so that it outlives the coroutine frames the control context holds.
  std::unique_ptr<sources::ConsulRegistration> registration_;
  std::unique_ptr<Control> control_;
  api::ProduceGate produce_gate_;
  api::SingleRecordHandler single_record_{produce_gate_};
  api::BatchHandler batch_{produce_gate_};
  api::ConfluentV2Handler confluent_v2_{produce_gate_};
  api::ConfluentV3Handler confluent_v3_;
  // Idempotency-Key retries, per gateway (api/idempotent_handler.h), around every produce route.
  std::shared_ptr<api::IdempotencyCache> idempotency_;
  api::CallerIdentity caller_{[this](const http::Request& request) { return produce_gate_.caller_key_id(request); }};
  api::IdempotentHandler idempotent_single_record_{single_record_, idempotency_, caller_};
  api::IdempotentHandler idempotent_batch_{batch_, idempotency_, caller_};
  api::IdempotentHandler idempotent_confluent_v2_{confluent_v2_, idempotency_, caller_};
  api::IdempotentHandler idempotent_confluent_v3_{confluent_v3_, idempotency_, caller_};
  ops::HealthHandler liveness_;
  ops::HealthHandler readiness_;
  std::unique_ptr<ops::AdminConfigHandler> admin_;
  ops::LogLevelHandler log_level_{file_.admin_token_sha256};
  ops::MetricsHandler metrics_{file_.metrics_require_token ? file_.admin_token_sha256 : std::nullopt};
  // Told of every request both servers answer; made once their routes are in, and declared
  // before them so it outlives both.
  std::unique_ptr<ops::RequestMetrics> request_metrics_;
  http::Router router_;
  http::HttpServer server_;
  ops::AccessLog access_log_{file_.logging.access_log_sample_rate, server_.worker_count()};
  http::Router admin_router_;                       // /admin/*, /metrics and the probes, with server.admin_listen
  std::unique_ptr<http::HttpServer> admin_server_;  // null without server.admin_listen
  bool shut_down_ = false;
};

// Every metric family /metrics can show, module by module (for the docs check).
std::vector<metrics::MetricList> gateway_metric_families();

}  // namespace intake::app
