// The YAML's consul_registration: how the gateway registers itself as a Consul service, with
// an HTTP check of its /readyz. Plain values with defaults; filled by config/static_config.cc,
// which also resolves the fallbacks (agent and token from config.consul, address from
// server.listen), so the values here are final except `port` and `service_id`, which depend
// on the bound listener and the host name (sources/consul_registration.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace intake::sources {

struct ConsulRegistrationOptions {
  bool enabled = false;
  std::string agent = "http://127.0.0.1:8500";  // the local agent: "http://host:port" or "host:port"
  std::string token;                            // X-Consul-Token; empty = none. Never logged.
  std::string service_name = "intake";
  std::string service_id;  // empty = <service_name>-<host name>-<port>
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, std::string>> meta;
  std::string address;                               // advertised address (and the check's host); never 0.0.0.0
  std::uint16_t port = 0;                            // advertised port; 0 = the API listener's bound port
  std::chrono::milliseconds check_interval{10'000};  // also how often the agent is asked whether it still has us
  std::chrono::milliseconds check_timeout{2'000};
  std::chrono::seconds deregister_critical_after{600};  // 0 = never (Consul reaps at >= 60 s)
};

}  // namespace intake::sources
