#include "api/idempotency_cache.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace intake::api {
namespace {

// What an entry costs besides its strings: the list node, the index slot and the Entry itself.
constexpr std::size_t kEntryOverheadBytes = sizeof(void*) * 8 + 64;

std::string composite_key(std::string_view key_id, std::string_view idem_key) {
  std::string key;
  key.reserve(key_id.size() + 1 + idem_key.size());
  key.append(key_id).push_back('\0');  // key ids hold no NUL, so the pair is unambiguous
  key.append(idem_key);
  return key;
}

bool is_2xx(int status) { return status >= 200 && status < 300; }

}  // namespace

IdempotencyCache::IdempotencyCache(IdempotencySettings settings) : settings_(settings), shard_budget_(0) {
  settings_.shards = std::max<std::size_t>(settings_.shards, 1);
  shard_budget_ = settings_.max_bytes / settings_.shards;
  shards_.reserve(settings_.shards);
  for (std::size_t i = 0; i < settings_.shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

IdempotencyCache::Shard& IdempotencyCache::shard_for(std::string_view key) {
  return *shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void IdempotencyCache::erase(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->bytes;
  stats_.bytes.fetch_sub(static_cast<std::int64_t>(it->bytes), std::memory_order_relaxed);
  stats_.entries.fetch_sub(1, std::memory_order_relaxed);
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

void IdempotencyCache::resize(Shard& shard, Entry& entry, std::size_t bytes) {
  shard.bytes = shard.bytes - entry.bytes + bytes;
  stats_.bytes.fetch_add(static_cast<std::int64_t>(bytes) - static_cast<std::int64_t>(entry.bytes),
                         std::memory_order_relaxed);
  entry.bytes = bytes;
}

void IdempotencyCache::evict_over_budget(Shard& shard) {
  // Never evicts the most recent entry: an entry bigger than a shard's budget still serves
  // its own retries until the next begin() in that shard pushes it out.
  while (shard.bytes > shard_budget_ && shard.lru.size() > 1) {
    auto victim = std::prev(shard.lru.end());
    (victim->done ? stats_.evictions_done : stats_.evictions_in_flight).fetch_add(1, std::memory_order_relaxed);
    erase(shard, victim);
  }
}

IdempotencyCache::Begin IdempotencyCache::begin(std::string_view key_id, std::string_view idem_key,
                                                const crypto::Sha256& body_digest, std::string_view path,
                                                Clock::time_point now) {
  std::string key = composite_key(key_id, idem_key);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (auto found = shard.index.find(key); found != shard.index.end()) {
    auto it = found->second;
    if (it->expires_at > now) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it);
      Begin result;
      if (!crypto::constant_time_equal(it->digest, body_digest) || it->path != path) {
        stats_.mismatches.fetch_add(1, std::memory_order_relaxed);
        result.outcome = Outcome::kMismatch;
      } else if (!it->done) {
        stats_.in_progress.fetch_add(1, std::memory_order_relaxed);
        result.outcome = Outcome::kInProgress;
      } else {
        stats_.replays.fetch_add(1, std::memory_order_relaxed);
        result.outcome = Outcome::kReplay;
        result.response.status = it->status;
        result.response.body = it->body;
        result.response.content_type = it->content_type;
        result.response.retry_after_s = it->retry_after_s;
      }
      return result;
    }
    erase(shard, it);  // expired: as if absent
  }

  Entry entry;
  entry.key = std::move(key);
  entry.digest = body_digest;
  entry.path = std::string(path);
  entry.ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  entry.expires_at = now + settings_.window;
  shard.lru.push_front(std::move(entry));
  auto it = shard.lru.begin();
  shard.index.emplace(std::string_view(it->key), it);
  stats_.entries.fetch_add(1, std::memory_order_relaxed);
  resize(shard, *it, kEntryOverheadBytes + it->key.size() + it->path.size());
  const std::uint64_t ticket = it->ticket;
  evict_over_budget(shard);
  return Begin{.outcome = Outcome::kFresh, .ticket = ticket, .response = {}};
}

void IdempotencyCache::complete(std::string_view key_id, std::string_view idem_key, std::uint64_t ticket,
                                const http::Response& response, Clock::time_point now) {
  const std::string key = composite_key(key_id, idem_key);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end() || found->second->ticket != ticket || found->second->done) return;
  auto it = found->second;
  if (!is_2xx(response.status)) {
    erase(shard, it);  // an error answer produced nothing: let a retry try again
    return;
  }
  it->done = true;
  it->status = response.status;
  it->body = response.body;
  it->content_type = response.content_type;
  it->retry_after_s = response.retry_after_s;
  it->expires_at = now + settings_.window;
  resize(shard, *it, kEntryOverheadBytes + it->key.size() + it->path.size() + it->body.size());
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  evict_over_budget(shard);
}

void IdempotencyCache::abandon(std::string_view key_id, std::string_view idem_key, std::uint64_t ticket) {
  const std::string key = composite_key(key_id, idem_key);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(key);
  if (found == shard.index.end() || found->second->ticket != ticket || found->second->done) return;
  erase(shard, found->second);
}

}  // namespace intake::api
