#include "sources/consul_health.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>

namespace intake::sources {

ConsulHealthSource::ConsulHealthSource(ConsulOptions options, ConsulTransport transport)
    : options_(std::move(options)), endpoint_(parse_consul_address(options_.address, options_.token)) {
  endpoint_.transport = std::move(transport);
}

void ConsulHealthSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  BlockingQuery query{"/v1/health/service/" + options_.broker_service + "?passing=1", options_.wait};
  const std::string source = "consul_health:" + options_.broker_service;
  auto on_answer = [this, &callbacks, source](const HttpAnswer& answer, std::uint64_t index) -> Result<void> {
    HealthInstances instances;
    if (answer.status == 200) {
      auto decoded = decode_health_answer(answer.body);
      if (!decoded) return std::move(decoded).error();
      instances = std::move(decoded).value();
    }
    // Logged once per answer that moved the index, so a bad registration is not repeated.
    for (const auto& reason : instances.skipped) spdlog::warn("config: {}: left out {}", source, reason);
    stats_.count_snapshot(std::to_string(index));
    callbacks.on_brokers(source, std::move(instances.brokers));
    return {};
  };
  auto on_error = [&callbacks, source](const std::string& message) { callbacks.on_source_error(source, message); };
  boost::asio::co_spawn(control, run_blocking_query(endpoint_, query, stats_, on_answer, on_error),
                        boost::asio::detached);
}

}  // namespace intake::sources
