// Access decisions for one request: which API key is presenting itself, and whether it may
// write to the topic. Pure functions of the request's headers and a Config snapshot; no I/O.
#pragma once

#include <chrono>
#include <string_view>

#include "config/config.h"
#include "error/result.h"

namespace intake::policy {

// The secret a client presented: `Authorization: Bearer <key>` wins over `X-Intake-Key`.
// Returns missing_api_key when neither carries a key.
Result<std::string_view> presented_key(std::string_view authorization, std::string_view x_intake_key);

// One SHA-256 of the presented secret (or this thread's cached digest of it, see
// crypto/secret_digest_cache.h) and one hash lookup. Unknown → invalid_api_key;
// disabled → key_disabled; past its expires_at → key_expired. The returned pointer lives as
// long as `config`.
Result<const config::ApiKey*> authenticate(const config::Config& config, std::string_view secret,
                                           std::chrono::system_clock::time_point now);

// Deny by default: the topic must match one of the key's globs, else topic_not_allowed.
Result<void> authorize_topic(const config::ApiKey& key, std::string_view topic);

}  // namespace intake::policy
