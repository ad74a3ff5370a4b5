// What the connection layer counts, for /metrics (http/http_metrics.h). Every event here
// happens once per connection or once per refused or timed-out request, never per ordinary
// request, so shared atomics cost nothing on the hot path.
#pragma once

#include <atomic>
#include <cstdint>

namespace intake::http {

struct ServerCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused_global_cap{0};  // answered 503 too_many_connections
  std::atomic<std::uint64_t> refused_client_cap{0};
  std::atomic<std::uint64_t> dropped_over_cap{0};  // over a cap while too many refusals lingered: closed unanswered
  std::atomic<std::uint64_t> header_timeouts{0};   // 408
  std::atomic<std::uint64_t> body_timeouts{0};     // 408
  std::atomic<std::uint64_t> write_timeouts{0};    // answer never read: closed
  std::atomic<std::uint64_t> idle_closed{0};
  std::atomic<std::uint64_t> refused_before_body{0};     // a body was announced and the headers decided the answer
  std::atomic<std::uint64_t> body_budget_refused{0};     // 503 server_busy
  std::atomic<std::uint64_t> sync_timeouts{0};           // 504 delivery_timeout
  std::atomic<std::uint64_t> tls_handshake_failures{0};  // refused, broken or stalled past server.header_timeout_ms
};

}  // namespace intake::http
