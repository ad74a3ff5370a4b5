// What the HTTP listener is told: where to listen, its threads, and the limits it applies
// before a handler runs. Plain values with defaults; filled from the YAML's `server:` section
// by config/static_config.cc, the only code that knows YAML.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace intake::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one per core
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::uint32_t idle_timeout_ms = 60'000;
  std::uint32_t sync_timeout_ms = 30'000;  // a sync request without Kafka's answer by then gets 504
};

}  // namespace intake::http
