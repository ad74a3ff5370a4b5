// What the server tells observers about each answered request. Request metrics (by route and
// status, latency histograms) and the sampled access log watch requests through this, so the
// connection layer knows neither of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/connection_limits.h"
#include "http/message.h"

namespace intake::http {

struct AnsweredRequest {
  Method method = Method::kOther;
  // The pattern of the route that matched, as given to Router::add; empty when no route
  // matched or the request failed before it was routed (a bad head, a header timeout).
  std::string_view route;
  std::string_view path;  // without the query string (which may carry anything: never logged)
  int status = 0;         // 200 for a streamed answer
  // From the read that completed the request's head to its answer queued for writing.
  std::chrono::nanoseconds duration{0};
  std::uint64_t body_bytes = 0;  // request body bytes received (wire bytes for chunked)
  const ClientAddress* client = nullptr;
  // Which of the server's worker threads answered, 0 .. threads-1: observers keep one shard per
  // worker so that counting takes no lock and shares no cache line.
  unsigned worker = 0;
};

class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // On the answering worker's thread, once per answered request. Must not block; should not
  // allocate in the steady state. `answered` and its views are valid only during the call.
  virtual void on_answered(const AnsweredRequest& answered) noexcept = 0;
};

}  // namespace intake::http
