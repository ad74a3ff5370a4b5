#include "policy/replay_cache.h"

#include <algorithm>
#include <functional>

namespace intake::policy {

ReplayReservation& ReplayReservation::operator=(ReplayReservation&& other) noexcept {
  if (this != &other) {
    release();
    cache_ = std::move(other.cache_);
    entry_ = std::move(other.entry_);
    generation_ = other.generation_;
  }
  return *this;
}

void ReplayReservation::settle(bool committed) {
  if (!cache_) return;
  cache_->settle(entry_, generation_, committed);
  cache_.reset();
}

ReplayCache::Shard& ReplayCache::shard_of(std::string_view entry) {
  return shards_[std::hash<std::string_view>{}(entry) % kShards];
}

void ReplayCache::pop_expired(Shard& shard, std::int64_t now_s) {
  // Insertion order is nearly expiry order (expiry = the request's timestamp + window, and
  // timestamps are near the clock); an entry that expires later than those behind it only
  // holds them back until it expires itself, which costs memory, never a replay.
  while (!shard.by_insertion.empty() && shard.by_insertion.front()->second.expires_s < now_s) {
    const auto* node = shard.by_insertion.front();
    shard.by_insertion.pop_front();
    shard.bytes -= cost_bytes(node->first);
    stats_.bytes.fetch_sub(cost_bytes(node->first), std::memory_order_relaxed);
    stats_.entries.fetch_sub(1, std::memory_order_relaxed);
    shard.entries.erase(node->first);
  }
}

Result<ReplayReservation> ReplayCache::reserve(std::string_view key_id, std::string_view replay_id,
                                               std::int64_t expires_s, std::int64_t now_s) {
  std::string entry;
  entry.reserve(key_id.size() + 1 + replay_id.size());
  entry.append(key_id).push_back('\n');  // a key id has no newline: (key id, replay id) is unambiguous
  entry.append(replay_id);
  Shard& shard = shard_of(entry);
  std::lock_guard lock(shard.mutex);
  pop_expired(shard, now_s);
  if (auto found = shard.entries.find(entry); found != shard.entries.end()) {
    Entry& existing = found->second;
    if (existing.state != State::kReleased) {
      stats_.replays_refused.fetch_add(1, std::memory_order_relaxed);
      return Error{ErrorCode::kSignatureReplayed,
                   "this signed request was already accepted, or is still being processed; sign every new request "
                   "with a new nonce"};
    }
    // Released by a refused request: its retry takes the same entry (and queue slot) again.
    existing.state = State::kReserved;
    existing.generation = shard.next_generation++;
    existing.expires_s = std::max(existing.expires_s, expires_s);
    return ReplayReservation(shared_from_this(), std::move(entry), existing.generation);
  }
  const std::size_t cost = cost_bytes(entry);
  if (shard.bytes + cost > shard_budget_bytes_) {
    stats_.refused_full.fetch_add(1, std::memory_order_relaxed);
    return Error{ErrorCode::kServerBusy,
                 "the replay cache is full (signing.replay_cache_max_bytes) and none of its entries has expired yet; "
                 "retry shortly"};
  }
  const std::uint64_t generation = shard.next_generation++;
  const auto node =
      shard.entries.emplace(entry, Entry{.expires_s = expires_s, .generation = generation, .state = State::kReserved})
          .first;
  shard.by_insertion.push_back(&*node);
  shard.bytes += cost;
  stats_.bytes.fetch_add(cost, std::memory_order_relaxed);
  stats_.entries.fetch_add(1, std::memory_order_relaxed);
  return ReplayReservation(shared_from_this(), std::move(entry), generation);
}

void ReplayCache::settle(const std::string& entry, std::uint64_t generation, bool committed) {
  Shard& shard = shard_of(entry);
  std::lock_guard lock(shard.mutex);
  // Gone (expired while in flight) or taken by a later reservation: nothing of ours to settle.
  auto found = shard.entries.find(entry);
  if (found == shard.entries.end() || found->second.generation != generation ||
      found->second.state != State::kReserved) {
    return;
  }
  found->second.state = committed ? State::kCommitted : State::kReleased;
}

}  // namespace intake::policy
