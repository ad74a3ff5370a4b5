#include "policy/token_bucket.h"

#include <algorithm>
#include <limits>

namespace intake::policy {
namespace {

constexpr std::int64_t kMaxNs = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMinNs = std::numeric_limits<std::int64_t>::min();

// A duration in nanoseconds, saturated to 0..kMaxNs (NaN counts as 0). Converting a double
// outside int64's range is undefined behaviour, so the range is checked in double first.
std::int64_t to_ns(double ns) {
  if (!(ns > 0)) return 0;
  if (ns >= 0x1p63) return kMaxNs;  // 2^63: the first double past kMaxNs
  return static_cast<std::int64_t>(ns);
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? kMaxNs : kMinNs;
  return sum;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) return b < 0 ? kMaxNs : kMinNs;
  return difference;
}

}  // namespace

std::int64_t TokenBucket::try_take(double cost, double rate_per_sec, double burst, std::int64_t now_ns) {
  // Compared in tokens, before any rounding or saturation can make them look equal.
  if (!(rate_per_sec > 0) || !(burst > 0) || !(cost <= burst)) return kNever;
  const double interval_ns = 1e9 / rate_per_sec;  // time one token takes to refill (may be inf)
  const std::int64_t increment = to_ns(cost * interval_ns);
  const std::int64_t tolerance = to_ns(burst * interval_ns);
  const std::int64_t full_at = saturating_add(now_ns, tolerance);  // TAT of an empty bucket
  std::int64_t arrival = theoretical_arrival_ns_.load(std::memory_order_relaxed);
  for (;;) {
    // A bucket is never emptier than empty: debt left by an older, stricter limit is capped at
    // one full bucket of the current one (and stored, so it drains from there), so raising a
    // limit gives relief within 1/rate.
    if (arrival > full_at) {
      theoretical_arrival_ns_.compare_exchange_weak(arrival, full_at, std::memory_order_relaxed);
      continue;  // `arrival` now holds the current value either way
    }
    // A TAT past the int64 range cannot be stored: refuse rather than store a saturated one,
    // which would look like room for every later request. So saturation only ever admits
    // less than the exact algorithm would, never more.
    std::int64_t next = 0;
    if (__builtin_add_overflow(std::max(arrival, now_ns), increment, &next)) return kMaxNs;
    const std::int64_t ahead = saturating_sub(next, now_ns);  // >= 0: next >= now_ns
    if (ahead > tolerance) return std::max<std::int64_t>(1, ahead - tolerance);
    if (theoretical_arrival_ns_.compare_exchange_weak(arrival, next, std::memory_order_relaxed)) return 0;
  }
}

void TokenBucket::give_back(double cost, double rate_per_sec) {
  if (!(rate_per_sec > 0)) return;
  const std::int64_t refund = to_ns(cost * (1e9 / rate_per_sec));
  std::int64_t arrival = theoretical_arrival_ns_.load(std::memory_order_relaxed);
  while (!theoretical_arrival_ns_.compare_exchange_weak(arrival, saturating_sub(arrival, refund),
                                                        std::memory_order_relaxed)) {
  }
}

}  // namespace intake::policy
