// ReplayCache: which signed requests were accepted, so each is accepted once
// (docs/access-control.md). An entry is keyed by (key id, replay id): the nonce for v2
// signatures, the MAC itself for the deprecated v1. It is RESERVED while its request is in
// flight and COMMITTED once the request was accepted; a refused request releases it, so the
// client's retry with the same nonce passes.
//
// Bounded: each of the 16 shards holds at most max_bytes / 16 bytes of entries (about
// kEntryOverheadBytes + key id + replay id each). Expiry is O(1) amortized: a shard keeps its
// entries in insertion order and pops the expired ones from the front on each reservation,
// never scanning. A full shard whose oldest entry has not expired refuses the reservation
// (503 server_busy): evicting a live entry would let its request be replayed.
#pragma once

#include <absl/container/node_hash_map.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "error/result.h"

namespace intake::policy {

// Counters for /metrics (policy/replay_cache_metrics.h).
struct ReplayStats {
  std::atomic<std::uint64_t> entries{0};          // reserved, committed or released, not yet expired
  std::atomic<std::uint64_t> bytes{0};            // counted against the budget
  std::atomic<std::uint64_t> replays_refused{0};  // 401 signature_replayed
  std::atomic<std::uint64_t> refused_full{0};     // 503: the budget was full and nothing could expire
};

class ReplayCache;

// One reserved entry. Released on destruction unless committed; commit() and release() are
// idempotent and only the first counts. Move-only; may be settled on any thread.
class ReplayReservation {
 public:
  ReplayReservation() = default;
  ReplayReservation(ReplayReservation&& other) noexcept = default;
  ReplayReservation& operator=(ReplayReservation&& other) noexcept;
  ReplayReservation(const ReplayReservation&) = delete;
  ReplayReservation& operator=(const ReplayReservation&) = delete;
  ~ReplayReservation() { release(); }

  // The request was accepted: the entry refuses its replays until it expires.
  void commit() { settle(true); }
  // The request was refused: a retry with the same replay id may reserve it again.
  void release() { settle(false); }
  // True until commit() or release().
  bool held() const { return cache_ != nullptr; }

 private:
  friend class ReplayCache;
  ReplayReservation(std::shared_ptr<ReplayCache> cache, std::string entry, std::uint64_t generation)
      : cache_(std::move(cache)), entry_(std::move(entry)), generation_(generation) {}
  void settle(bool committed);

  std::shared_ptr<ReplayCache> cache_;  // null once settled
  std::string entry_;
  std::uint64_t generation_ = 0;
};

class ReplayCache : public std::enable_shared_from_this<ReplayCache> {
 public:
  // What one entry is counted as beside its key id and replay id (hash node, queue slot).
  static constexpr std::size_t kEntryOverheadBytes = 96;
  static constexpr std::size_t kShards = 16;

  // REQUIRES: owned by a std::shared_ptr (reservations keep the cache alive).
  explicit ReplayCache(std::size_t max_bytes = std::size_t{32} << 20) : shard_budget_bytes_(max_bytes / kShards) {}

  // Reserves (key_id, replay_id) until `expires_s` (unix seconds; the entry is forgotten once
  // now_s is past it). kSignatureReplayed if it is reserved or committed; kServerBusy if the
  // shard's budget is full and nothing in it has expired.
  Result<ReplayReservation> reserve(std::string_view key_id, std::string_view replay_id, std::int64_t expires_s,
                                    std::int64_t now_s);

  const ReplayStats& stats() const { return stats_; }

 private:
  friend class ReplayReservation;
  enum class State : std::uint8_t { kReserved, kCommitted, kReleased };
  struct Entry {
    std::int64_t expires_s = 0;
    std::uint64_t generation = 0;  // tells a reservation's own entry from a later one
    State state = State::kReserved;
  };
  using Map = absl::node_hash_map<std::string, Entry>;
  struct Shard {
    std::mutex mutex;
    Map entries;  // nodes are stable: the queue points into them
    std::deque<Map::value_type*> by_insertion;
    std::size_t bytes = 0;
    std::uint64_t next_generation = 1;
  };

  Shard& shard_of(std::string_view entry);
  // REQUIRES: shard.mutex held. Forgets the expired entries at the front of the queue.
  void pop_expired(Shard& shard, std::int64_t now_s);
  void settle(const std::string& entry, std::uint64_t generation, bool committed);
  static std::size_t cost_bytes(std::string_view entry) { return kEntryOverheadBytes + entry.size(); }

  const std::size_t shard_budget_bytes_;
  std::array<Shard, kShards> shards_;
  ReplayStats stats_;
};

}  // namespace intake::policy
