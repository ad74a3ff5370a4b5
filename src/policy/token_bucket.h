// TokenBucket: a per-key rate limit shared by every thread, without a lock. Implemented as
// GCRA (the "generic cell rate algorithm"): the whole state is one atomic timestamp, the
// theoretical arrival time (TAT) of the next token, so a check is one load and one CAS.
// Equivalent to a token bucket of `burst` tokens refilled at `rate_per_sec`.
//
// The limits are passed on every call rather than stored, so a limit changed in the registry
// applies to the very next request while the bucket's state carries over: what was used is
// kept (raising a limit hands out no fresh burst at once), but never more than one empty
// bucket under the new limit (so a raised limit refills at its new rate right away).
#pragma once

#include <atomic>
#include <cstdint>

namespace intake::policy {

class TokenBucket {
 public:
  static constexpr std::int64_t kNever = -1;

  // Takes `cost` tokens if the bucket holds them. Returns 0 when taken; otherwise the
  // nanoseconds until it would be (1..INT64_MAX), or kNever when `cost` exceeds `burst` (it
  // never fits) or the rate or burst is not above 0. Meant for rate_per_sec > 0, burst > 0,
  // cost >= 0, but no input overflows: times saturate at the int64 range (~292 years of
  // nanoseconds), and where the exact times do not fit the bucket admits less than exact
  // GCRA would, never more (for now_ns >= 0; a refusal then waits INT64_MAX).
  std::int64_t try_take(double cost, double rate_per_sec, double burst, std::int64_t now_ns);

  // Gives back tokens taken by try_take (when a later check refuses the request). Saturates
  // like try_take.
  void give_back(double cost, double rate_per_sec);

 private:
  std::atomic<std::int64_t> theoretical_arrival_ns_{0};
};

}  // namespace intake::policy
