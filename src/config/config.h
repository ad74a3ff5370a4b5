// The runtime configuration snapshot: API keys and their rights, topic policies, settings and
// the Kafka broker set. Immutable once published; the request path holds one
// shared_ptr<const Config> for the whole request, so a request never sees two versions.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/digest.h"

namespace intake::config {

enum class DeliveryMode : std::uint8_t { kAsync, kSync };

struct RateLimit {
  double records_per_sec = 0;  // refill rate
  double burst = 0;            // bucket size, in records
  double bytes_per_sec = 0;    // 0 = no byte limit
  double bytes_burst = 0;
};

struct ApiKey {
  std::string id;                           // registry name, safe to log
  crypto::Sha256 secret_sha256{};           // digest of the secret the client presents
  std::vector<std::string> topic_patterns;  // globs (policy/glob.h); deny by default
  bool enabled = true;
  std::optional<RateLimit> rate;                                    // none = unlimited
  std::optional<std::chrono::system_clock::time_point> expires_at;  // none = never
  std::string signing_secret;                                       // non-empty: requests must carry a valid signature
  // Client certificates that authenticate as this key on a TLS connection:
  // "sha256:<64 lowercase hex>" (the certificate's fingerprint) or "san:<DNS or URI SAN>".
  std::vector<std::string> client_certs;
  // How much of its rate a key has used is not here: it changes with every request, and the
  // snapshot never does (policy/rate_limiter.h keeps it, by key id).
};

struct TopicPolicy {
  std::size_t max_record_bytes = 0;  // 0 = only server.max_body_bytes applies
  std::optional<DeliveryMode> mode;  // none = settings.default_mode
};

struct Settings {
  DeliveryMode default_mode = DeliveryMode::kAsync;
  std::size_t max_record_bytes = 0;       // 0 = only server.max_body_bytes applies
  std::int64_t signature_window_s = 300;  // accepted clock skew of signed requests
};

struct Config {
  // Keyed by the secret's digest: authenticating a request is one SHA-256 and one lookup.
  absl::flat_hash_map<crypto::Sha256, ApiKey, crypto::Sha256Hash, crypto::Sha256Equal> keys;
  // "sha256:<hex>" / "san:<name>" → the digest the key is filed under in `keys`.
  absl::flat_hash_map<std::string, crypto::Sha256> keys_by_cert;
  absl::flat_hash_map<std::string, TopicPolicy> topics;
  Settings settings;
  std::vector<std::string> brokers;  // sorted "host:port"; empty = the YAML's bootstrap servers

  // Provenance, for /admin/config and logs.
  std::uint64_t version = 0;  // assigned by ConfigStore on publish
  std::string content_hash;   // hex SHA-256 of the registry content it was built from
  std::string source;         // e.g. "file:examples/intake.yaml", "consul:intake/"
  std::string revision;       // the registry's own revision, e.g. the X-Consul-Index
  std::chrono::system_clock::time_point applied_at{};

  // Returns the key whose secret has this digest, or nullptr.
  const ApiKey* find_key(const crypto::Sha256& secret_digest) const {
    auto it = keys.find(secret_digest);
    return it == keys.end() ? nullptr : &it->second;
  }

  // Returns the key a verified client certificate stands for: its fingerprint first, then its
  // SANs in order; nullptr when none is listed.
  const ApiKey* find_key_by_cert(std::string_view sha256_hex, const std::vector<std::string>& sans) const {
    if (keys_by_cert.empty()) return nullptr;
    std::string probe = "sha256:";
    probe.append(sha256_hex);
    auto it = keys_by_cert.find(probe);
    for (std::size_t i = 0; it == keys_by_cert.end() && i < sans.size(); ++i) it = keys_by_cert.find("san:" + sans[i]);
    return it == keys_by_cert.end() ? nullptr : find_key(it->second);
  }
};

}  // namespace intake::config
