// SecretDigestCache: the SHA-256 digests of the secrets one thread was presented lately, so a
// client that sends the same API key on every request has it hashed once, not every time
// (SHA-256 of the presented key was ~3.5% of request CPU). A digest depends on the secret
// alone, so nothing invalidates an entry: a rotated or deleted key just stops matching in the
// Config.
//
// Direct-mapped: each secret has one slot, chosen by a keyed non-cryptographic hash with a
// per-process random seed (so no client can aim its secrets at the slot of someone else's).
// The stored secret is compared with the presented one in constant time, after the lengths.
// Secrets longer than kMaxSecretBytes are hashed every time and never stored.
//
// What the timing reveals: a hit is faster than a miss, which tells only whether this exact
// secret was presented on this thread before (and not evicted since). The cache holds the
// plain secrets in this thread's memory, as the request buffers do; it wipes them when the
// thread ends.
//
// Thread-safety: none; each thread uses its own (for_this_thread()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/digest.h"

namespace intake::crypto {

class SecretDigestCache {
 public:
  static constexpr std::size_t kSlots = 64;
  static constexpr std::size_t kMaxSecretBytes = 128;

  // This thread's cache, seeded with the process's random seed.
  static SecretDigestCache& for_this_thread();

  explicit SecretDigestCache(std::uint64_t seed) : seed_(seed) {}
  ~SecretDigestCache();
  SecretDigestCache(const SecretDigestCache&) = delete;
  SecretDigestCache& operator=(const SecretDigestCache&) = delete;

  // Returns sha256(secret).
  Sha256 digest(std::string_view secret);

  // For tests: the slot `secret` maps to, and how many digests were computed (misses and
  // secrets too long to cache).
  std::size_t slot_of(std::string_view secret) const;
  std::uint64_t computed() const { return computed_; }

 private:
  struct Slot {
    bool filled = false;
    std::size_t length = 0;
    std::array<char, kMaxSecretBytes> secret{};
    Sha256 digest{};
  };

  std::uint64_t seed_;
  std::uint64_t computed_ = 0;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace intake::crypto
