#include "app/gateway.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace intake::app {

Gateway::Gateway(config::StaticConfig file)
    : file_(std::move(file)),
      producer_(file_.kafka),
      produce_(store_, producer_),
      liveness_(ops::HealthHandler::Probe::kLiveness, producer_, draining_),
      readiness_(ops::HealthHandler::Probe::kReadiness, producer_, draining_),
      server_(file_.server, router_) {
  router_.add(http::Method::kPost, "/v1/topics/{topic}", produce_);
  router_.add(http::Method::kGet, "/healthz", liveness_);
  router_.add(http::Method::kGet, "/readyz", readiness_);
  store_.publish(config::config_from_static(file_));
}

void Gateway::start() {
  server_.start();
  const auto config = store_.current();
  spdlog::info("intake: listening on {}:{} ({} keys from {}, Kafka at {})", file_.server.address, server_.port(),
               config->keys.size(), config->source, file_.kafka.bootstrap_servers);
}

std::uint64_t Gateway::shutdown() {
  draining_.store(true);
  server_.stop_accepting();
  // Requests are answered on the connection threads without waiting on I/O, so a short pause
  // lets responses already being written go out before the threads stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_.stop();
  const auto undelivered = producer_.stop();
  const auto& counters = producer_.counters();
  spdlog::info("intake: stopped; {} records accepted, {} delivered, {} failed, {} undelivered",
               counters.enqueued.load(), counters.delivered.load(), counters.failed.load(), undelivered);
  return undelivered;
}

}  // namespace intake::app
