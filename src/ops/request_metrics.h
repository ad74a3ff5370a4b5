// RequestMetrics: counts every answered request by route and status, and times it, for
// /metrics. It watches the servers as an http::RequestObserver, so the connection layer knows
// nothing of it.
//
//   intake_http_requests_total{route, code, class}      counter
//   intake_http_request_duration_seconds{route}          histogram (metrics::kLatencyBoundsSeconds)
//
// `route` is the pattern that matched (`/v1/topics/{topic}/records`), or "unmatched" when none
// did (404, 405, a bad head, a header timeout): never the path, so the label set is the
// router's patterns plus one. `code` is the status, from a fixed table of the codes HTTP
// defines; any other status counts as code="other" in its class. `class` is "2xx" .. "5xx",
// so an error ratio needs no regex over codes.
//
// Cost per request: the route's index by comparing the pattern's data pointer against the few
// the routers hold (no hash, no string compare), the code's index from a 600-entry table, and
// four relaxed atomic adds on the answering worker's own cache lines. No lock, no allocation.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_observer.h"
#include "http/router.h"
#include "metrics/histogram.h"
#include "metrics/metric.h"

namespace intake::ops {

class RequestMetrics final : public http::RequestObserver {
 public:
  // `routers`: those of every server this observer is added to; their routes must all have
  // been added. `shards`: the largest worker count among those servers (a worker index is
  // taken modulo it, so a smaller number is safe, only slower under contention).
  RequestMetrics(std::span<const http::Router* const> routers, unsigned shards);

  void on_answered(const http::AnsweredRequest& answered) noexcept override;

  void write(metrics::MetricSink& out) const;
  static metrics::MetricList families();

  // The route label a request of `route` (AnsweredRequest::route) counts under.
  std::string_view route_label(std::string_view route) const { return routes_[route_index(route)]; }

 private:
  std::size_t route_index(std::string_view route) const;
  static constexpr std::size_t kCodeSlots = 48;  // the known codes, then one "other" per class
  struct alignas(64) Line {
    std::atomic<std::uint64_t> slots[8]{};
  };
  // A shard's counters are whole lines of their own (kCodeSlots is a multiple of 8).
  std::atomic<std::uint64_t>& counter(std::size_t shard, std::size_t route, std::size_t code) const {
    const std::size_t i = (shard * routes_.size() + route) * kCodeSlots + code;
    return counts_[i / 8].slots[i % 8];
  }

  std::vector<std::string> routes_;         // labels; [0] = "unmatched"
  std::vector<const char*> pattern_data_;   // every router pattern's data pointer ...
  std::vector<std::size_t> pattern_route_;  // ... and its label's index
  std::size_t shards_;
  std::unique_ptr<Line[]> counts_;  // per shard, then route, then code
  metrics::HistogramSet durations_;
};

}  // namespace intake::ops
