// RateLimiter: the per-key rate buckets, kept apart from the Config snapshot so the snapshot
// stays immutable. Buckets are keyed by key id and carried across config versions: a new
// version resets no bucket, and a rotated secret keeps its key's usage.
//
// Thread-safety: admit() is the request path, and only for keys that have a rate: one atomic
// integer load and one hash lookup (each thread keeps a reference to the bucket table it last
// saw and reloads it only after a publish). track() is the control path (once per published
// config, before the publish, see ConfigStore::before_publish), serialised by a mutex admit()
// never takes.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "concurrency/snapshot_cell.h"
#include "config/config.h"
#include "error/result.h"
#include "policy/token_bucket.h"

namespace intake::policy {

class RateLimiter {
 public:
  RateLimiter();

  // Gives every key of `next` that has a rate a bucket pair: the one its id had, or a fresh
  // one. Keys without a rate, or gone from `next`, lose theirs.
  void track(const config::Config& next);

  // Takes `records` records of `bytes` bytes in all from the key's buckets (records, and
  // bytes when limited), all or nothing. rate_limited with Retry-After when empty;
  // payload_too_large when the request alone exceeds the key's burst (no retry could ever
  // pass). Keys without a rate always pass, and so does a key whose bucket a newer version
  // has just dropped (its rate was removed).
  Result<void> admit(const config::ApiKey& key, std::size_t records, std::size_t bytes, std::int64_t now_ns) const;

  // Keys holding buckets (for tests and metrics).
  std::size_t tracked_keys() const;

  // Requests refused rate_limited so far (not the payload_too_large ones).
  std::uint64_t limited() const { return limited_.load(std::memory_order_relaxed); }

 private:
  struct KeyBuckets {
    TokenBucket records;
    TokenBucket bytes;
  };
  using Table = absl::flat_hash_map<std::string, std::shared_ptr<KeyBuckets>>;

  // Counts `refused` if it is a rate_limited refusal; returns it.
  Error count(Error refused) const;

  concurrency::SnapshotCell<Table> table_;
  mutable std::atomic<std::uint64_t> limited_{0};  // refusals only: never touched by a pass
  std::mutex track_mutex_;                         // one track() at a time, so none loses another's buckets
};

}  // namespace intake::policy
