// Request signing, per key: `X-Intake-Signature: t=<unix seconds>,v1=<hex>` where v1 is
// HMAC-SHA256(signing_secret, t + "." + body). Several v1= values may be sent (secret
// rotation); one match is enough. A signature is valid within ±window of the server's clock
// and only once: the ReplayCache remembers every accepted signature for the window.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "error/result.h"

namespace intake::policy {

// Remembers accepted signatures so each is accepted once. Sharded by hash: concurrent
// requests rarely share a lock, and only signed keys ever touch it.
class ReplayCache {
 public:
  // Returns true iff `signature` was not accepted before (and remembers it until
  // `forget_after_s`, unix seconds).
  bool first_use(std::string_view key_id, std::string_view signature, std::int64_t forget_after_s, std::int64_t now_s);
  std::size_t size() const;

 private:
  struct Shard {
    mutable std::mutex mutex;
    absl::flat_hash_map<std::string, std::int64_t> forget_after_s;
    std::int64_t next_prune_s = 0;
  };
  static constexpr std::size_t kShards = 16;
  std::array<Shard, kShards> shards_;
};

struct SignatureCheck {
  std::string_view header;  // X-Intake-Signature
  std::string_view body;
  std::string_view signing_secret;
  std::string_view key_id;
  std::int64_t now_s = 0;  // unix seconds
  std::int64_t window_s = 300;
};

// signature_required, invalid_signature, signature_expired or signature_replayed.
Result<void> verify_signature(const SignatureCheck& check, ReplayCache& replays);

// The header value a client would send (for tests, docs and client libraries).
std::string sign_request(std::string_view signing_secret, std::int64_t timestamp_s, std::string_view body);

}  // namespace intake::policy
