#include "http/http_metrics.h"

namespace intake::http {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kOpen{"intake_http_connections_open", "Client connections open (refusals lingering excluded)",
                             MetricType::kGauge};
constexpr MetricFamily kMaxOpen{"intake_http_max_connections", "server.max_connections (0 = no cap)",
                                MetricType::kGauge};
constexpr MetricFamily kAccepted{"intake_http_connections_accepted_total", "Client connections accepted and served",
                                 MetricType::kCounter};
constexpr MetricFamily kRefused{"intake_http_connections_refused_total",
                                "Connections over a cap, by cap (reason=\"dropped\": closed unanswered while many "
                                "refusals lingered)",
                                MetricType::kCounter};
constexpr MetricFamily kTimeouts{"intake_http_timeouts_total",
                                 "Requests or connections whose phase clock ran out, by phase (headers and body "
                                 "answered 408, sync answered 504, write and idle closed)",
                                 MetricType::kCounter};
constexpr MetricFamily kRefusedBeforeBody{
    "intake_http_refused_before_body_total",
    "Requests that announced a body and were answered from their headers (key, rights, route) before it was read",
    MetricType::kCounter};
constexpr MetricFamily kBudgetRefused{"intake_http_body_budget_refused_total",
                                      "Requests answered 503 server_busy: bodies in memory at "
                                      "server.max_inflight_body_bytes",
                                      MetricType::kCounter};
constexpr MetricFamily kBodyBytes{"intake_http_inflight_body_bytes",
                                  "Bytes of request bodies held outside connection buffers", MetricType::kGauge};
constexpr MetricFamily kMaxBodyBytes{"intake_http_max_inflight_body_bytes", "server.max_inflight_body_bytes",
                                     MetricType::kGauge};

constexpr MetricFamily kTlsReloads{"intake_tls_reloads_total",
                                   "Listener certificates swapped in after their files changed (server.tls)",
                                   MetricType::kCounter};
constexpr MetricFamily kTlsReloadFailures{
    "intake_tls_reload_failures_total",
    "Changed certificate files rejected (unreadable, key not the certificate's); the previous certificate stays",
    MetricType::kCounter};
constexpr MetricFamily kTlsHandshakeFailures{"intake_tls_handshake_failures_total",
                                             "TLS handshakes refused, broken or stalled past server.header_timeout_ms",
                                             MetricType::kCounter};
constexpr MetricFamily kTlsNotAfter{"intake_tls_certificate_not_after_seconds",
                                    "notAfter of the certificate new connections get, in Unix seconds",
                                    MetricType::kGauge};

constexpr const MetricFamily* kFamilies[] = {
    &kOpen,          &kMaxOpen,   &kAccepted,     &kRefused,    &kTimeouts,          &kRefusedBeforeBody,
    &kBudgetRefused, &kBodyBytes, &kMaxBodyBytes, &kTlsReloads, &kTlsReloadFailures, &kTlsHandshakeFailures,
    &kTlsNotAfter};

double number(std::uint64_t value) { return static_cast<double>(value); }
double load(const std::atomic<std::uint64_t>& counter) { return number(counter.load(std::memory_order_relaxed)); }

}  // namespace

metrics::MetricList server_metric_families() { return kFamilies; }

void write_server_metrics(const HttpServer& server, metrics::MetricSink& out) {
  const ServerCounters& counters = server.counters();
  out.sample(kOpen, number(server.open_connections()));
  out.sample(kMaxOpen, number(server.options().max_connections));
  out.sample(kAccepted, load(counters.accepted));
  out.sample(kRefused, load(counters.refused_global_cap), "reason=\"max_connections\"");
  out.sample(kRefused, load(counters.refused_client_cap), "reason=\"max_connections_per_ip\"");
  out.sample(kRefused, load(counters.dropped_over_cap), "reason=\"dropped\"");
  out.sample(kTimeouts, load(counters.header_timeouts), "phase=\"headers\"");
  out.sample(kTimeouts, load(counters.body_timeouts), "phase=\"body\"");
  out.sample(kTimeouts, load(counters.sync_timeouts), "phase=\"sync_answer\"");
  out.sample(kTimeouts, load(counters.write_timeouts), "phase=\"write\"");
  out.sample(kTimeouts, load(counters.idle_closed), "phase=\"idle\"");
  out.sample(kRefusedBeforeBody, load(counters.refused_before_body));
  if (const TlsReloader* tls = server.tls()) {
    out.sample(kTlsReloads, load(tls->counters().reloads));
    out.sample(kTlsReloadFailures, load(tls->counters().reload_failures));
    out.sample(kTlsHandshakeFailures, load(counters.tls_handshake_failures));
    out.sample(kTlsNotAfter, static_cast<double>(tls->counters().not_after_s.load(std::memory_order_relaxed)));
  }
  out.sample(kBudgetRefused, load(counters.body_budget_refused));
  out.sample(kBodyBytes, number(server.inflight_body_bytes()));
  out.sample(kMaxBodyBytes, number(server.options().max_inflight_body_bytes));
}

}  // namespace intake::http
