// Consul's options (the YAML's config.consul): the agent, the KV prefix ConsulKvSource watches
// and the service ConsulHealthSource takes brokers from. Plain values with defaults; filled by
// config/static_config.cc, the only code that knows YAML.
#pragma once

#include <chrono>
#include <string>

namespace intake::sources {

struct ConsulOptions {
  std::string address = "http://127.0.0.1:8500";  // "http://host:port" or "host:port"
  std::string prefix = "intake/";                 // a KV path; a '/' is appended when missing
  std::string token;                              // X-Consul-Token; empty = none
  std::chrono::milliseconds wait{300'000};        // blocking-query wait
  std::string broker_service;                     // non-empty: brokers also from /v1/health/service/<name>?passing=1
};

}  // namespace intake::sources
