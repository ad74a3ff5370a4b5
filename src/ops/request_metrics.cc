#include "ops/request_metrics.h"

#include <algorithm>
#include <array>

namespace intake::ops {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kRequests{"intake_http_requests_total",
                                 "Requests answered, by route pattern (\"unmatched\": no route), status code and "
                                 "status class",
                                 MetricType::kCounter};
constexpr MetricFamily kDuration{"intake_http_request_duration_seconds",
                                 "Time from a request's head read to its answer queued, by route pattern",
                                 MetricType::kHistogram};
constexpr const MetricFamily* kFamilies[] = {&kRequests, &kDuration};

// The status codes counted by name; anything else counts as "other" in its class.
constexpr int kKnownCodes[] = {100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401,
                               403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421,
                               422, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505};
constexpr std::size_t kKnown = std::size(kKnownCodes);
constexpr std::size_t kOtherBase = kKnown;  // + class - 1: 1xx .. 5xx
static_assert(kOtherBase + 5 <= 48);

constexpr std::array<std::uint8_t, 600> make_code_slots() {
  std::array<std::uint8_t, 600> slots{};
  for (int status = 0; status < 600; ++status) {
    const int status_class = status < 100 ? 5 : status / 100;  // below 100 is not HTTP: 5xx
    slots[static_cast<std::size_t>(status)] = static_cast<std::uint8_t>(kOtherBase + status_class - 1);
  }
  for (std::size_t i = 0; i < kKnown; ++i)
    slots[static_cast<std::size_t>(kKnownCodes[i])] = static_cast<std::uint8_t>(i);
  return slots;
}
constexpr auto kCodeSlotOf = make_code_slots();

std::size_t code_slot(int status) {
  if (status < 0 || status >= 600) return kOtherBase + 4;  // not HTTP: counted as 5xx
  return kCodeSlotOf[static_cast<std::size_t>(status)];
}

// code="..." and class="...", for slot `slot`.
std::string code_labels(std::size_t slot) {
  if (slot < kKnown) {
    const int code = kKnownCodes[slot];
    return "code=\"" + std::to_string(code) + "\",class=\"" + std::to_string(code / 100) + "xx\"";
  }
  return "code=\"other\",class=\"" + std::to_string(slot - kOtherBase + 1) + "xx\"";
}

std::string escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

RequestMetrics::RequestMetrics(std::span<const http::Router* const> routers, unsigned shards)
    : routes_{"unmatched"}, shards_(std::max(1u, shards)), durations_(metrics::kLatencyBoundsSeconds, 0, 1) {
  for (const http::Router* router : routers) {
    for (std::string_view pattern : router->patterns()) {
      auto it = std::find(routes_.begin(), routes_.end(), pattern);
      if (it == routes_.end()) it = routes_.insert(routes_.end(), std::string(pattern));
      pattern_data_.push_back(pattern.data());
      pattern_route_.push_back(static_cast<std::size_t>(it - routes_.begin()));
    }
  }
  counts_ = std::make_unique<Line[]>(shards_ * routes_.size() * kCodeSlots / 8);
  durations_ = metrics::HistogramSet(metrics::kLatencyBoundsSeconds, routes_.size(), shards_);
}

std::size_t RequestMetrics::route_index(std::string_view route) const {
  if (route.empty()) return 0;
  for (std::size_t i = 0; i < pattern_data_.size(); ++i) {
    if (pattern_data_[i] == route.data()) return pattern_route_[i];
  }
  // A router this observer was not given: its patterns are still bounded, but not known here.
  for (std::size_t i = 1; i < routes_.size(); ++i) {
    if (routes_[i] == route) return i;
  }
  return 0;
}

void RequestMetrics::on_answered(const http::AnsweredRequest& answered) noexcept {
  const std::size_t shard = answered.worker % shards_;
  const std::size_t route = route_index(answered.route);
  counter(shard, route, code_slot(answered.status)).fetch_add(1, std::memory_order_relaxed);
  durations_.observe(shard, route, answered.duration);
}

metrics::MetricList RequestMetrics::families() { return kFamilies; }

void RequestMetrics::write(metrics::MetricSink& out) const {
  std::string labels;
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    for (std::size_t code = 0; code < kCodeSlots; ++code) {
      std::uint64_t total = 0;
      for (std::size_t shard = 0; shard < shards_; ++shard)
        total += counter(shard, route, code).load(std::memory_order_relaxed);
      if (total == 0) continue;  // series appear once they count something
      labels = "route=\"" + escaped(routes_[route]) + "\"," + code_labels(code);
      out.sample(kRequests, static_cast<double>(total), labels);
    }
  }
  std::vector<std::uint64_t> counts;
  for (std::size_t route = 0; route < routes_.size(); ++route) {
    double sum = 0;
    if (durations_.read(route, counts, sum) == 0) continue;
    labels = "route=\"" + escaped(routes_[route]) + "\"";
    out.histogram(kDuration, {metrics::kLatencyBoundsSeconds, counts, sum}, labels);
  }
}

}  // namespace intake::ops
