#include "sources/consul_health.h"

#include <boost/asio.hpp>
#include <simdjson.h>

#include <set>

namespace intake::sources {

std::string decode_health_answer(const std::string& body, std::vector<std::string>& brokers) {
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(body).get_array().get(entries) != simdjson::SUCCESS) return "Consul's health answer is not a JSON array";
  std::set<std::string> unique;
  for (auto entry : entries) {
    std::string_view address;
    std::uint64_t port = 0;
    if (entry["Service"]["Port"].get_uint64().get(port) != simdjson::SUCCESS || port == 0 || port > 65535) {
      return "a health entry has no valid Service.Port";
    }
    if (entry["Service"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
      if (entry["Node"]["Address"].get_string().get(address) != simdjson::SUCCESS || address.empty()) {
        return "a health entry has neither Service.Address nor Node.Address";
      }
    }
    unique.insert(std::string(address) + ":" + std::to_string(port));
  }
  brokers.assign(unique.begin(), unique.end());
  return {};
}

void ConsulHealthSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  BlockingQuery query{"/v1/health/service/" + settings_.service + "?passing=1", settings_.wait};
  const std::string source = "consul_health:" + settings_.service;
  auto on_answer = [this, &callbacks, source](const HttpAnswer& answer, std::uint64_t index) -> std::string {
    std::vector<std::string> brokers;
    if (answer.status == 200) {
      if (auto problem = decode_health_answer(answer.body, brokers); !problem.empty()) return problem;
    }
    stats_.count_snapshot(std::to_string(index));
    callbacks.on_brokers(source, std::move(brokers));
    return {};
  };
  auto on_error = [&callbacks, source](const std::string& message) { callbacks.on_source_error(source, message); };
  boost::asio::co_spawn(control, run_blocking_query(settings_.endpoint, query, stats_, on_answer, on_error),
                        boost::asio::detached);
}

}  // namespace intake::sources
