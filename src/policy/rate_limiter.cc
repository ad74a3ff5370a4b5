#include "policy/rate_limiter.h"

#include <algorithm>
#include <limits>
#include <string_view>

namespace intake::policy {
namespace {

Error refusal(const config::ApiKey& key, std::int64_t wait_ns, std::string_view what) {
  if (wait_ns == TokenBucket::kNever) {
    return make_error(ErrorCode::kPayloadTooLarge,
                      "the request holds more than API key '" + key.id + "' may send at once (rate." +
                          (what == "records per second" ? "burst" : "bytes_burst") + "); send less per request");
  }
  // Whole seconds, rounded up, at most what Retry-After can carry (wait_ns may be INT64_MAX).
  constexpr std::int64_t kSecond = 1'000'000'000;
  const std::int64_t seconds = wait_ns / kSecond + (wait_ns % kSecond != 0 ? 1 : 0);
  const auto retry_after_s =
      static_cast<std::uint32_t>(std::min<std::int64_t>(seconds, std::numeric_limits<std::uint32_t>::max()));
  return Error{ErrorCode::kRateLimited,
               "API key '" + key.id + "' is over its rate limit (" + std::string(what) + "); retry after " +
                   std::to_string(retry_after_s) + " s",
               retry_after_s};
}

}  // namespace

RateLimiter::RateLimiter() : table_(std::make_shared<const Table>()) {}

void RateLimiter::track(const config::Config& next) {
  std::lock_guard lock(track_mutex_);
  const auto previous = table_.load();
  auto table = std::make_shared<Table>();
  for (const auto& [digest, key] : next.keys) {
    if (!key.rate) continue;
    auto it = previous->find(key.id);
    table->emplace(key.id, it != previous->end() ? it->second : std::make_shared<KeyBuckets>());
  }
  table_.store(std::move(table));
}

Result<void> RateLimiter::admit(const config::ApiKey& key, std::size_t records, std::size_t bytes,
                                std::int64_t now_ns) const {
  if (!key.rate) return {};
  const Table& table = table_.read_on_this_thread();
  const auto it = table.find(key.id);
  if (it == table.end()) return {};
  const auto& rate = *key.rate;
  KeyBuckets& buckets = *it->second;
  const auto record_cost = static_cast<double>(records);
  if (auto wait = buckets.records.try_take(record_cost, rate.records_per_sec, rate.burst, now_ns); wait != 0) {
    return count(refusal(key, wait, "records per second"));
  }
  if (rate.bytes_per_sec > 0) {
    const auto byte_cost = static_cast<double>(bytes);
    if (auto wait = buckets.bytes.try_take(byte_cost, rate.bytes_per_sec, rate.bytes_burst, now_ns); wait != 0) {
      buckets.records.give_back(record_cost, rate.records_per_sec);  // not admitted after all
      return count(refusal(key, wait, "bytes per second"));
    }
  }
  return {};
}

Error RateLimiter::count(Error refused) const {
  if (refused.code == ErrorCode::kRateLimited) limited_.fetch_add(1, std::memory_order_relaxed);
  return refused;
}

std::size_t RateLimiter::tracked_keys() const { return table_.load()->size(); }

}  // namespace intake::policy
