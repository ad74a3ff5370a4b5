#include "policy/token_bucket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

namespace intake::policy {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(TokenBucket, StartsFullAndRefillsAtTheRate) {
  TokenBucket bucket;
  const std::int64_t t0 = 100 * kSecond;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.try_take(1, /*rate=*/10, /*burst=*/10, t0), 0) << i;
  const auto wait = bucket.try_take(1, 10, 10, t0);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, kSecond / 10);
  EXPECT_EQ(bucket.try_take(1, 10, 10, t0 + kSecond / 10), 0);  // exactly one refilled
  EXPECT_GT(bucket.try_take(1, 10, 10, t0 + kSecond / 10), 0);
  // A long idle time refills to the burst, not beyond.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(bucket.try_take(1, 10, 10, t0 + 60 * kSecond), 0);
  EXPECT_GT(bucket.try_take(1, 10, 10, t0 + 60 * kSecond), 0);
}

TEST(TokenBucket, CostAboveTheBurstNeverFits) {
  TokenBucket bucket;
  EXPECT_EQ(bucket.try_take(11, 10, 10, 0), TokenBucket::kNever);
}

TEST(TokenBucket, NewLimitsApplyToTheNextCallAndKeepWhatWasUsed) {
  TokenBucket bucket;
  const std::int64_t t0 = 100 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(bucket.try_take(1, 5, 5, t0), 0);
  EXPECT_GT(bucket.try_take(1, 5, 5, t0), 0);
  // What was used carries over: raising the limit hands out no fresh burst at once, and the
  // new rate refills from there.
  EXPECT_GT(bucket.try_take(1, 10, 10, t0), 0);
  EXPECT_EQ(bucket.try_take(1, 10, 10, t0 + kSecond / 10), 0);
  // Debt from a strict limit is capped at one empty bucket of the new one: after a minute
  // at 1 per minute (deep debt), a raised limit admits within 1/rate.
  TokenBucket strict;
  EXPECT_EQ(strict.try_take(1, 1.0 / 60, 1, t0), 0);  // owes 60 s now
  EXPECT_GT(strict.try_take(1, 1000, 1000, t0), 0);
  EXPECT_EQ(strict.try_take(1, 1000, 1000, t0 + kSecond / 1000), 0);
  // Lowering the limit applies at once too.
  EXPECT_GT(bucket.try_take(1, 1, 1, t0 + kSecond / 10), 0);
}

TEST(TokenBucket, ConcurrentTakersNeverExceedTheBurst) {
  TokenBucket bucket;
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) taken += bucket.try_take(1, /*rate=*/1, /*burst=*/1000, 50 * kSecond) == 0;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken.load(), 1000);
}

// The registry's bounds (config/builder.cc): per_sec 0.001..1e7, burst 1..6e8. Where the exact
// times fit in int64 the bucket is exact; where they do not (0.001/s with a burst of 6e8 is
// 6e20 ns) it saturates, admitting less rather than more, and nothing overflows (UBSan).
TEST(TokenBucket, IsExactAtTheConfigBoundsWhereTimesFitAndSaturatesWhereTheyDoNot) {
  const std::int64_t t0 = 100 * kSecond;
  TokenBucket fastest;  // 1e7/s, burst 6e8: 60 s of tokens, 100 ns each
  EXPECT_EQ(fastest.try_take(6e8, 1e7, 6e8, t0), 0);
  EXPECT_EQ(fastest.try_take(1, 1e7, 6e8, t0), 100);
  EXPECT_EQ(fastest.try_take(1, 1e7, 6e8, t0 + 100), 0);

  TokenBucket slowest;  // 0.001/s, burst 1: one token per 1000 s
  EXPECT_EQ(slowest.try_take(1, 0.001, 1, t0), 0);
  EXPECT_EQ(slowest.try_take(1, 0.001, 1, t0), 1000 * kSecond);
  EXPECT_EQ(slowest.try_take(1, 0.001, 1, t0 + 1000 * kSecond), 0);

  TokenBucket widest;  // 0.001/s, burst 6e8: a 6e11 s bucket, beyond int64 nanoseconds
  for (int i = 0; i < 3; ++i) EXPECT_EQ(widest.try_take(1, 0.001, 6e8, t0), 0) << i;
  EXPECT_EQ(widest.try_take(6e8, 0.001, 6e8, t0), INT64_MAX);  // would overflow: refused, not wrapped
  EXPECT_EQ(widest.try_take(6e8 + 1, 0.001, 6e8, t0), TokenBucket::kNever);
  widest.give_back(6e8, 0.001);
  EXPECT_EQ(widest.try_take(1, 0.001, 6e8, t0), 0);
}

TEST(TokenBucket, NoInputOverflows) {
  const double rates[] = {5e-324, 1e-300, 1e-9, 0.001, 1, 1e7, 1e300, INFINITY};
  const double amounts[] = {0, 1e-300, 1, 6e8, 1e300, INFINITY};
  const std::int64_t times[] = {INT64_MIN, -1, 0, 100 * kSecond, INT64_MAX - 1, INT64_MAX};
  for (double rate : rates) {
    for (double burst : amounts) {
      TokenBucket bucket;
      for (double cost : amounts) {
        for (std::int64_t now : times) {
          const auto wait = bucket.try_take(cost, rate, burst, now);
          EXPECT_TRUE(wait == TokenBucket::kNever || wait >= 0) << rate << " " << burst << " " << cost << " " << now;
        }
        bucket.give_back(cost, rate);
      }
    }
  }
  TokenBucket bucket;
  EXPECT_EQ(bucket.try_take(1, 0, 1, 0), TokenBucket::kNever);
  EXPECT_EQ(bucket.try_take(1, NAN, 1, 0), TokenBucket::kNever);
  EXPECT_EQ(bucket.try_take(1, 1, NAN, 0), TokenBucket::kNever);
  EXPECT_EQ(bucket.try_take(NAN, 1, 1, 0), TokenBucket::kNever);
}

}  // namespace
}  // namespace intake::policy
