// Answers to produce requests that carried an `Idempotency-Key`, so a client that retries
// after a lost answer gets the first answer again instead of producing its records twice.
//
// An entry is keyed by (API key id, Idempotency-Key): two callers never see each other's
// entries. It remembers the SHA-256 of the body and the request path, so the same key with
// another request is told apart from a retry. While the first request runs the entry is in
// flight; once it answered 2xx the entry holds that answer for `window`. A non-2xx answer
// means nothing was produced, so it is not kept: a retry is processed afresh.
//
// Bounded: entries expire `window` after they were begun (in flight) or completed (done), and
// each shard evicts its least recently used entries beyond its share of `max_bytes` — in-flight
// ones too (a retry of an evicted one is then processed again; counted). Thread-safe: the
// cache is split into shards, each with its own mutex and LRU list, so no lock is global.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/digest.h"
#include "http/message.h"

namespace intake::api {

struct IdempotencySettings {
  std::chrono::seconds window{600};
  std::size_t max_bytes = 64 * 1024 * 1024;  // key + path + stored body + per-entry overhead
  std::size_t shards = 16;                   // each gets max_bytes / shards
};

// Read by write_idempotency_metrics; relaxed atomics, so a scrape may see them mid-update.
struct IdempotencyStats {
  std::atomic<std::int64_t> entries{0};  // in flight and done, expired ones until touched
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::uint64_t> replays{0};      // answered from a stored response
  std::atomic<std::uint64_t> mismatches{0};   // same key, other body or path (422)
  std::atomic<std::uint64_t> in_progress{0};  // same key while the first still ran (409)
  std::atomic<std::uint64_t> evictions_done{0};
  std::atomic<std::uint64_t> evictions_in_flight{0};
};

class IdempotencyCache {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Outcome : std::uint8_t {
    kFresh,       // the caller owns the entry: it must complete() or abandon() it with `ticket`
    kReplay,      // `response` is the stored answer
    kInProgress,  // the first request with this key has not answered yet
    kMismatch,    // the key was used with another body or path
  };
  struct Begin {
    Outcome outcome = Outcome::kFresh;
    std::uint64_t ticket = 0;  // kFresh only
    http::Response response;   // kReplay only
  };

  explicit IdempotencyCache(IdempotencySettings settings = {});
  IdempotencyCache(const IdempotencyCache&) = delete;
  IdempotencyCache& operator=(const IdempotencyCache&) = delete;

  // Looks up (key_id, idem_key); an absent or expired entry is replaced by an in-flight one
  // owned by the caller.
  Begin begin(std::string_view key_id, std::string_view idem_key, const crypto::Sha256& body_digest,
              std::string_view path, Clock::time_point now);

  // Stores `response` if it is 2xx (status, body, content_type, retry_after_s), else removes
  // the entry. Does nothing if the entry is gone or no longer the one `ticket` began (evicted,
  // expired and begun again). REQUIRES: response.content_type points at static storage, as
  // every content type in the tree does; the stored view is handed out on replay.
  void complete(std::string_view key_id, std::string_view idem_key, std::uint64_t ticket,
                const http::Response& response, Clock::time_point now);

  // Removes the caller's in-flight entry, so a retry is processed afresh.
  void abandon(std::string_view key_id, std::string_view idem_key, std::uint64_t ticket);

  const IdempotencyStats& stats() const { return stats_; }
  const IdempotencySettings& settings() const { return settings_; }

 private:
  struct Entry {
    std::string key;  // key_id '\0' idem_key
    crypto::Sha256 digest{};
    std::string path;
    bool done = false;
    std::uint64_t ticket = 0;
    int status = 0;
    std::string body;
    std::string_view content_type;
    std::uint32_t retry_after_s = 0;
    Clock::time_point expires_at;
    std::size_t bytes = 0;
  };
  struct Shard {
    std::mutex mutex;
    std::list<Entry> lru;                                                    // most recently used first
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index;  // views into Entry::key
    std::size_t bytes = 0;
  };

  Shard& shard_for(std::string_view key);
  // REQUIRES: shard.mutex held.
  void erase(Shard& shard, std::list<Entry>::iterator it);
  void resize(Shard& shard, Entry& entry, std::size_t bytes);
  void evict_over_budget(Shard& shard);

  IdempotencySettings settings_;
  std::size_t shard_budget_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> next_ticket_{1};
  IdempotencyStats stats_;
};

}  // namespace intake::api
