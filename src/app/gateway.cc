#include "app/gateway.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "api/idempotency_metrics.h"
#include "concurrency/loop_probe.h"
#include "config/config_metrics.h"
#include "http/http_metrics.h"
#include "kafka/producer_metrics.h"
#include "ops/operator_routes.h"
#include "policy/rate_limiter_metrics.h"
#include "policy/replay_cache_metrics.h"
#include "sources/consul_health.h"
#include "sources/read_once.h"
#include "spool/spool_metrics.h"

namespace intake::app {

// The control loop: one thread running the registry watchers' coroutines.
struct Gateway::Control {
  boost::asio::io_context context{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{context.get_executor()};
  std::thread thread;

  void start() {
    thread = std::thread([this] { context.run(); });
  }
  // Abandons every in-flight request at once; returns when the thread has ended.
  void stop() {
    context.stop();
    if (thread.joinable()) thread.join();
  }
};

namespace {

std::vector<std::unique_ptr<sources::Source>> make_sources(const sources::RegistryOptions& registry) {
  std::vector<std::unique_ptr<sources::Source>> made;
  // The keys' source is the one `intake check-config --source` reads once.
  if (auto keys = sources::make_tree_source(registry)) made.push_back(std::move(keys));
  // Brokers from Consul's health API, beside whichever source holds the keys (or none).
  if (config::plan_watches(registry).consul_health) {
    made.push_back(std::make_unique<sources::ConsulHealthSource>(registry.consul));
  }
  return made;
}

std::vector<const sources::Source*> views(const std::vector<std::unique_ptr<sources::Source>>& owned) {
  std::vector<const sources::Source*> out;
  out.reserve(owned.size());
  for (const auto& source : owned) out.push_back(source.get());
  return out;
}

}  // namespace

Gateway::Gateway(config::StaticConfig file)
    : file_(std::move(file)),
      producer_(file_.kafka),
      spool_(file_.spool.dir.empty() ? nullptr : std::make_unique<spool::DiskSpool>(file_.spool)),
      sink_(producer_, spool_.get(), file_.spool.mode),
      sources_(make_sources(file_.registry)),
      registration_(file_.consul_registration.enabled
                        ? std::make_unique<sources::ConsulRegistration>(file_.consul_registration)
                        : nullptr),
      control_(std::make_unique<Control>()),
      produce_gate_(store_, limiter_, sink_,
                    api::ProduceSettings{.copy_headers = file_.kafka.copy_headers,
                                         .sync_timeout_ms = file_.server.sync_timeout_ms,
                                         .max_decoded_body_bytes = file_.server.max_body_bytes,
                                         .replay_cache_max_bytes = file_.signing.replay_cache_max_bytes,
                                         .metric_topics = file_.metrics.topics,
                                         .metric_max_topics = file_.metrics.max_topics}),
      confluent_v3_(produce_gate_, {file_.confluent.cluster_id, [this] { return producer_.cluster_id(); }}),
      idempotency_(std::make_shared<api::IdempotencyCache>(api::IdempotencySettings{
          .window = std::chrono::seconds(file_.idempotency.window_s), .max_bytes = file_.idempotency.max_bytes})),
      liveness_(ops::HealthHandler::Probe::kLiveness, producer_, draining_),
      readiness_(ops::HealthHandler::Probe::kReadiness, producer_, draining_),
      server_(file_.server, router_) {
  producer_.set_async_listener(&sink_);
  sink_.start();
  if (spool_) {
    spdlog::info("spool: {} in {} mode, fsync {}, at most {} bytes", file_.spool.dir,
                 file_.spool.mode == spool::SpoolOptions::Mode::kWriteAhead ? "write_ahead" : "fallback",
                 file_.spool.fsync == spool::SpoolOptions::Fsync::kAlways
                     ? "always"
                     : (file_.spool.fsync == spool::SpoolOptions::Fsync::kNever ? "never" : "interval"),
                 file_.spool.max_bytes);
  }
  admin_ = std::make_unique<ops::AdminConfigHandler>(file_.admin_token_sha256, store_, views(sources_),
                                                     [this] { return producer_.brokers(); });
  router_.add(http::Method::kPost, api::kRecordRoute, idempotent_single_record_);
  router_.add(http::Method::kPost, api::kBatchRoute, idempotent_batch_);
  router_.add(http::Method::kPost, api::kConfluentV2TopicRoute, idempotent_confluent_v2_);
  router_.add(http::Method::kPost, api::kConfluentV2PartitionRoute, idempotent_confluent_v2_);
  router_.add(http::Method::kPost, api::kConfluentV3RecordsRoute, idempotent_confluent_v3_);
  router_.add(http::Method::kPost, api::kConfluentV3BatchRoute, idempotent_confluent_v3_);
  if (file_.admin_server) admin_server_ = std::make_unique<http::HttpServer>(*file_.admin_server, admin_router_);
  ops::add_operator_routes({liveness_, readiness_, *admin_, log_level_, metrics_}, router_,
                           admin_server_ ? &admin_router_ : nullptr);
  const http::Router* routers[] = {&router_, &admin_router_};
  request_metrics_ = std::make_unique<ops::RequestMetrics>(
      routers, std::max(server_.worker_count(), admin_server_ ? admin_server_->worker_count() : 0u));
  server_.add_observer(*request_metrics_);
  if (admin_server_) admin_server_->add_observer(*request_metrics_);
  register_metrics();
  if (file_.logging.access_log_sample_rate > 0) server_.add_observer(access_log_);
  // Buckets for the keys of each version before any request sees it; they carry over by key id.
  store_.before_publish([this](const config::Config& config) { limiter_.track(config); });
  // Every published config's broker set goes to the producer (empty = keep the YAML's).
  store_.on_publish([this](const config::Config& config) { producer_.set_brokers(config.brokers); });
  const auto plan = config::plan_watches(file_.registry);
  // Without a registry the YAML's keys stay in force, and health brokers apply to them.
  if (!plan.registry) plane_.set_static_base(config::config_from_static(file_));
  if (!plan.wait_for_registry) store_.publish(config::config_from_static(file_));
}

Gateway::~Gateway() { shutdown(); }

namespace {

constexpr metrics::MetricFamily kReady{"intake_ready", "1 while Kafka is reachable and the gateway is not draining",
                                       metrics::MetricType::kGauge};
constexpr metrics::MetricFamily kConsulRegistered{
    "intake_consul_registered", "1 while the Consul agent holds this gateway's service (consul_registration)",
    metrics::MetricType::kGauge};
constexpr metrics::MetricFamily kConsulRegistrations{
    "intake_consul_registrations_total", "Registrations of this gateway's service the Consul agent accepted",
    metrics::MetricType::kCounter};
constexpr const metrics::MetricFamily* kGatewayFamilies[] = {&kReady, &kConsulRegistered, &kConsulRegistrations};

}  // namespace

std::vector<metrics::MetricList> gateway_metric_families() {
  return {config::config_metric_families(),      kGatewayFamilies,
          http::server_metric_families(),        kafka::producer_metric_families(),
          spool::sink_metric_families(),         spool::spool_metric_families(),
          api::idempotency_metric_families(),    policy::replay_cache_metric_families(),
          ops::RequestMetrics::families(),       api::AcceptedByTopic::families(),
          policy::rate_limiter_metric_families()};
}

void Gateway::register_metrics() {
  metrics_.add([this](metrics::MetricSink& out) {
    config::write_config_metrics(store_, out);
    config::write_source_metrics(plane_, out);
    out.sample(kReady, producer_.ready() && !draining_.load() ? 1 : 0);
    if (registration_) {
      out.sample(kConsulRegistered, registration_->registered() ? 1 : 0);
      out.sample(kConsulRegistrations, static_cast<double>(registration_->registrations()));
    }
    http::write_server_metrics(server_, out);
    api::write_idempotency_metrics(idempotency_->stats(), out);
    policy::write_replay_cache_metrics(produce_gate_.replay_stats(), out);
    policy::write_rate_limiter_metrics(limiter_, out);
    request_metrics_->write(out);
    produce_gate_.accepted().write(out);
  });
  metrics_.add([this](metrics::MetricSink& out) {
    kafka::write_producer_metrics(producer_.counters(), out);
    spool::write_sink_metrics(sink_.counters(), out);
    if (spool_) spool::write_spool_metrics(spool_->stats(), file_.spool.max_bytes, out);
  });
}

void Gateway::start_config_sources() {
  for (auto& source : sources_) {
    spdlog::info("config: watching {}", source->name());
    source->start(control_->context, plane_);
  }
  control_->start();
}

bool Gateway::event_loops_turn(std::chrono::milliseconds timeout) const {
  auto loops = server_.event_loops();
  if (admin_server_) {
    const auto admin = admin_server_->event_loops();
    loops.insert(loops.end(), admin.begin(), admin.end());
  }
  loops.push_back(&control_->context);
  return concurrency::loops_turn_within(loops, timeout);
}

bool Gateway::ready_to_serve() const {
  return !config::plan_watches(file_.registry).wait_for_registry || plane_.registry_applied();
}

void Gateway::start_serving() {
  server_.start();
  if (admin_server_) {
    admin_server_->start();
    spdlog::info("intake: /admin and /metrics on {}:{} only{}", file_.admin_server->address, admin_server_->port(),
                 file_.metrics_require_token ? " (/metrics needs the admin token)" : "");
  }
  // Registered only now: the agent's first check of /readyz can pass.
  if (registration_) registration_->start(control_->context, server_.port());
  const auto config = store_.current();
  spdlog::info("intake: listening on {}:{} (config version {} from {}, {} keys; Kafka at {})", file_.server.address,
               server_.port(), config->version, config->source, config->keys.size(), file_.kafka.bootstrap_servers);
}

std::uint64_t Gateway::shutdown() {
  if (shut_down_) return 0;
  shut_down_ = true;
  const auto started = std::chrono::steady_clock::now();
  // Out of Consul before draining: clients that discover gateways there stop picking this one
  // while it still serves them.
  if (registration_) registration_->deregister(std::chrono::milliseconds(2'500));
  draining_.store(true);  // /readyz fails from now on
  if (const auto delay = file_.server.drain_delay_ms; delay > 0) {
    // Lame duck: still serving while balancers notice the failing /readyz.
    spdlog::info("intake: /readyz fails now; serving {} ms more (server.drain_delay_ms) before closing the listeners",
                 delay);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  }
  sink_.stop_accepting();  // records sent from now on get 503 shutting_down
  server_.stop_accepting();
  if (admin_server_) admin_server_->stop_accepting();
  const auto watchers_from = std::chrono::steady_clock::now();
  control_->stop();  // cancels the registry long polls at once
  for (auto& source : sources_) source->stop();
  if (!sources_.empty()) {
    spdlog::info("config: {} watchers stopped in {} ms", sources_.size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - watchers_from)
                     .count());
  }
  // Requests already read are answered (sync ones once Kafka acknowledges), each closing its
  // connection; then idle keep-alive connections are dropped with the threads.
  if (!server_.wait_idle(std::chrono::milliseconds(file_.kafka.shutdown_flush_ms))) {
    spdlog::warn("intake: {} requests still unanswered after {} ms; closing their connections",
                 server_.active_requests(), file_.kafka.shutdown_flush_ms);
  }
  server_.stop();
  if (admin_server_) {
    // Operators' requests are quick: a scrape in progress gets a second to finish.
    admin_server_->wait_idle(std::chrono::seconds(1));
    admin_server_->stop();
  }
  sink_.stop_feeding();
  const auto lost_before = sink_.counters().lost.load();
  const auto purged = producer_.stop();  // purged records' reports reach sink_, which spools them
  const auto lost = sink_.counters().lost.load() - lost_before;
  if (spool_) {
    // The feeder has stopped, so this thread may tidy up: delivered segments go now.
    spool_->maintain(std::chrono::milliseconds(0), true);
    if (auto synced = spool_->sync(); !synced) spdlog::error("{}", synced.error().message);
  }
  const auto& counters = producer_.counters();
  const auto& sink = sink_.counters();
  spdlog::info(
      "intake: stopped in {} ms; {} records produced, {} delivered, {} failed, {} handed over, {} left at "
      "shutdown; spool: {} spooled, {} replayed, {} respooled, {} quarantined; {} lost at shutdown",
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count(),
      counters.enqueued.load(), counters.delivered.load(), counters.failed.load(), counters.handed_over.load(), purged,
      sink.spooled.load(), sink.replayed.load(), sink.respooled.load(), sink.quarantined.load(), lost);
  if (spool_) {
    const auto stats = spool_->stats();
    if (stats.segments > 0) {
      spdlog::info("spool: {} segments ({} bytes) stay in {}; the next start sends what Kafka has not acknowledged",
                   stats.segments, stats.bytes, file_.spool.dir);
    }
  }
  return lost;
}

}  // namespace intake::app
