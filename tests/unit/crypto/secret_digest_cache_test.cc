#include "crypto/secret_digest_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace intake::crypto {
namespace {

// Same length for every n, so two of them in one slot differ only in their bytes.
std::string numbered_secret(int n) {
  char text[32];
  std::snprintf(text, sizeof(text), "ik_live_%08d", n);
  return text;
}

// The first numbered secret after `after` that maps to `slot`.
std::string secret_in_slot(const SecretDigestCache& cache, std::size_t slot, int after) {
  for (int n = after + 1;; ++n) {
    if (auto secret = numbered_secret(n); cache.slot_of(secret) == slot) return secret;
  }
}

TEST(SecretDigestCache, GivesTheUncachedDigestForManySecrets) {
  SecretDigestCache cache(/*seed=*/7);
  std::vector<std::string> secrets{"", "a", "ab", "abc"};
  for (int n = 0; n < 500; ++n) secrets.push_back(numbered_secret(n));
  for (std::size_t length = 1; length <= SecretDigestCache::kMaxSecretBytes + 3; ++length) {
    secrets.emplace_back(length, static_cast<char>('a' + length % 26));
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& secret : secrets) {
      EXPECT_EQ(cache.digest(secret), sha256(secret)) << secret;
      const auto computed = cache.computed();
      EXPECT_EQ(cache.digest(secret), sha256(secret)) << secret;  // from the cache if it fits
      if (secret.size() <= SecretDigestCache::kMaxSecretBytes) {
        EXPECT_EQ(cache.computed(), computed) << secret;
      }
    }
  }
}

TEST(SecretDigestCache, ASecretInTheSameSlotEvictsTheOther) {
  SecretDigestCache cache(/*seed=*/42);
  const std::string first = numbered_secret(0);
  const std::string second = secret_in_slot(cache, cache.slot_of(first), 0);
  const std::string elsewhere = numbered_secret(1) == second ? numbered_secret(2) : numbered_secret(1);
  ASSERT_NE(cache.slot_of(elsewhere), cache.slot_of(first)) << "pick another neighbour";

  EXPECT_EQ(cache.digest(elsewhere), sha256(elsewhere));
  EXPECT_EQ(cache.digest(first), sha256(first));
  EXPECT_EQ(cache.digest(first), sha256(first));
  EXPECT_EQ(cache.computed(), 2u);
  EXPECT_EQ(cache.digest(second), sha256(second));  // same length and slot: evicts `first`
  EXPECT_EQ(cache.digest(second), sha256(second));
  EXPECT_EQ(cache.computed(), 3u);
  EXPECT_EQ(cache.digest(first), sha256(first));  // hashed again, and evicts `second`
  EXPECT_EQ(cache.computed(), 4u);
  EXPECT_EQ(cache.digest(second), sha256(second));
  EXPECT_EQ(cache.computed(), 5u);
  EXPECT_EQ(cache.digest(elsewhere), sha256(elsewhere));  // its slot was never touched
  EXPECT_EQ(cache.computed(), 5u);
}

TEST(SecretDigestCache, SecretsLongerThanTheBoundAreHashedEveryTime) {
  SecretDigestCache cache(/*seed=*/1);
  const std::string longest_cached(SecretDigestCache::kMaxSecretBytes, 'k');
  const std::string too_long(SecretDigestCache::kMaxSecretBytes + 1, 'k');
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.digest(longest_cached), sha256(longest_cached));
  EXPECT_EQ(cache.computed(), 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.digest(too_long), sha256(too_long));
  EXPECT_EQ(cache.computed(), 4u);
  // The long secret took no slot: its 128-byte prefix is still the cached one.
  EXPECT_EQ(cache.digest(longest_cached), sha256(longest_cached));
  EXPECT_EQ(cache.computed(), 4u);
}

TEST(SecretDigestCache, AnEmptySecretIsNotTakenForAnEmptySlot) {
  SecretDigestCache cache(/*seed=*/3);
  EXPECT_EQ(cache.digest(""), sha256(""));
  EXPECT_EQ(cache.computed(), 1u);
}

TEST(SecretDigestCache, TheSeedPicksTheSlots) {
  const SecretDigestCache one(/*seed=*/1);
  const SecretDigestCache other(/*seed=*/2);
  int moved = 0;
  for (int n = 0; n < 64; ++n) moved += one.slot_of(numbered_secret(n)) != other.slot_of(numbered_secret(n)) ? 1 : 0;
  EXPECT_GT(moved, 32);
}

TEST(SecretDigestCache, EachThreadHasItsOwnCache) {
  const std::string shared = "ik_live_shared-by-both-threads";
  struct Outcome {
    std::uint64_t first_shared_lookup_computed = 0;  // 1: not found in another thread's cache
    std::uint64_t computed = 0;
    int wrong = 0;
  };
  auto run = [&](int offset, Outcome& outcome) {
    auto& cache = SecretDigestCache::for_this_thread();
    const auto before = cache.computed();
    if (cache.digest(shared) != sha256(shared)) ++outcome.wrong;
    outcome.first_shared_lookup_computed = cache.computed() - before;
    for (int round = 0; round < 200; ++round) {
      if (cache.digest(shared) != sha256(shared)) ++outcome.wrong;
      const auto secret = numbered_secret(offset + round % 100);
      if (cache.digest(secret) != sha256(secret)) ++outcome.wrong;
    }
    outcome.computed = cache.computed() - before;
  };
  EXPECT_EQ(SecretDigestCache::for_this_thread().digest(shared), sha256(shared));  // this thread's, not theirs
  Outcome a;
  Outcome b;
  std::thread thread_a(run, 0, std::ref(a));
  std::thread thread_b(run, 50, std::ref(b));
  thread_a.join();
  thread_b.join();
  for (const Outcome* outcome : {&a, &b}) {
    EXPECT_EQ(outcome->wrong, 0);
    EXPECT_EQ(outcome->first_shared_lookup_computed, 1u);
    // 101 secrets in 64 slots: some are evicted and hashed again, but far from all each round.
    EXPECT_LT(outcome->computed, 300u);
  }
}

}  // namespace
}  // namespace intake::crypto
