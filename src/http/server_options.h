// What the HTTP listener is told: where to listen, its threads, and the limits it applies
// before a handler runs. Plain values with defaults; filled from the YAML's `server:` section
// by config/static_config.cc, the only code that knows YAML.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace intake::http {

// TLS on the listener (http/tls_context.h builds it, http/tls_reloader.h keeps it fresh).
struct TlsOptions {
  enum class ClientAuth : std::uint8_t { kNone, kOptional, kRequired };
  std::string cert_file;       // PEM: the server certificate, then any intermediates
  std::string key_file;        // PEM: its private key
  std::string client_ca_file;  // PEM: CAs that sign client certificates; required unless client_auth is none
  ClientAuth client_auth = ClientAuth::kNone;
  std::uint32_t reload_interval_ms = 1000;  // how often the files are looked at
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned threads = 0;  // 0 = one per core
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::uint32_t sync_timeout_ms = 30'000;  // a sync request without Kafka's answer by then gets 504

  // What an open network may hold. Over a cap a connection is answered 503 with Retry-After
  // and closed; 0 = no cap.
  std::uint32_t max_connections = 10'000;
  std::uint32_t max_connections_per_ip = 1'000;
  // Bodies that do not fit a connection's read buffer are held in memory until handled; all
  // of them together may hold this many bytes. Past it: 503 server_busy, before the body is read.
  std::size_t max_inflight_body_bytes = std::size_t{256} * 1024 * 1024;

  // Each phase of a request has its own clock.
  std::uint32_t header_timeout_ms = 10'000;   // first byte of a request → its last header byte; then 408
  std::uint32_t body_timeout_ms = 10'000;     // the body's grace: no rate is asked of it before this
  std::uint32_t body_min_bytes_per_s = 1024;  // after the grace, the body's average rate; below it 408
  std::uint32_t idle_timeout_ms = 60'000;     // keep-alive connection with no request in progress
  std::uint32_t write_timeout_ms = 10'000;    // an answer the client does not read by then: closed
  std::uint32_t retry_after_s = 1;            // Retry-After on 503s for caps and the body budget
  // On SIGTERM, after /readyz starts failing (and the Consul registration is gone), keep
  // serving this long before the listeners close, so load balancers stop sending first.
  std::uint32_t drain_delay_ms = 0;

  std::optional<TlsOptions> tls;  // none = plain HTTP
};

}  // namespace intake::http
