#include "sources/consul_health.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>

#include <set>
#include <string_view>

#include "names/broker_address.h"

namespace intake::sources {

namespace {

// Registry text for a log line: at most 64 bytes, control characters replaced.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 64));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 64) out += "...";
  return out;
}

// "instance '<Service.ID>' on node '<Node.Node>'", with what the entry has of both.
std::string describe(simdjson::dom::element entry) {
  std::string_view id, node;
  const bool has_id = entry["Service"]["ID"].get_string().get(id) == simdjson::SUCCESS;
  const bool has_node = entry["Node"]["Node"].get_string().get(node) == simdjson::SUCCESS;
  std::string out = "instance";
  if (has_id) out += " '" + printable(id) + "'";
  if (has_node) out += " on node '" + printable(node) + "'";
  return out;
}

}  // namespace

Result<HealthInstances> decode_health_answer(const std::string& body) {
  HealthInstances out;
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(body).get_array().get(entries) != simdjson::SUCCESS) {
    return make_error(ErrorCode::kInternal, "Consul's health answer is not a JSON array");
  }
  std::set<std::string> unique;
  for (auto entry : entries) {
    std::uint64_t port = 0;
    if (entry["Service"]["Port"].get_uint64().get(port) != simdjson::SUCCESS || port == 0 || port > 65535) {
      out.skipped.push_back(describe(entry) + " has no valid Service.Port (registered without a port?)");
      continue;
    }
    std::string_view address;
    if (entry["Service"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
      if (entry["Node"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
        out.skipped.push_back(describe(entry) + " has neither Service.Address nor Node.Address");
        continue;
      }
    }
    auto broker = names::make_broker_address(address, port);
    if (!broker) {
      out.skipped.push_back(describe(entry) + " has address '" + printable(address) +
                            "', which is no host name or IP address");
      continue;
    }
    unique.insert(std::move(*broker));
  }
  out.brokers.assign(unique.begin(), unique.end());
  return out;
}

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
