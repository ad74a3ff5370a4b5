#include "policy/token_bucket.h"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace intake::policy
