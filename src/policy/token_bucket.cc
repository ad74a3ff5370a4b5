#include "policy/token_bucket.h"

#include <algorithm>

namespace intake::policy {

std::int64_t TokenBucket::try_take(double cost, double rate_per_sec, double burst, std::int64_t now_ns) {
  const double interval_ns = 1e9 / rate_per_sec;  // time one token takes to refill
  const auto increment = static_cast<std::int64_t>(cost * interval_ns);
  const auto tolerance = static_cast<std::int64_t>(burst * interval_ns);
  if (increment > tolerance) return kNever;
  std::int64_t arrival = theoretical_arrival_ns_.load(std::memory_order_relaxed);
  for (;;) {
    // A bucket is never emptier than empty: debt left by an older, stricter limit is capped at
    // one full bucket of the current one (and stored, so it drains from there), so raising a
    // limit gives relief within 1/rate.
    if (arrival > now_ns + tolerance) {
      theoretical_arrival_ns_.compare_exchange_weak(arrival, now_ns + tolerance, std::memory_order_relaxed);
      continue;  // `arrival` now holds the current value either way
    }
    const std::int64_t next = std::max(arrival, now_ns) + increment;
    if (next - now_ns > tolerance) return std::max<std::int64_t>(1, next - now_ns - tolerance);
    if (theoretical_arrival_ns_.compare_exchange_weak(arrival, next, std::memory_order_relaxed)) return 0;
  }
}

void TokenBucket::give_back(double cost, double rate_per_sec) {
  theoretical_arrival_ns_.fetch_sub(static_cast<std::int64_t>(cost * 1e9 / rate_per_sec), std::memory_order_relaxed);
}

}  // namespace intake::policy
