// Access decisions for one request: which API key is presenting itself, and whether it may
// write to the topic. Pure functions of the request's headers and a Config snapshot; no I/O.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "error/result.h"

namespace intake::policy {

// The secret a client presented: `Authorization: Bearer <key>` wins over `X-Intake-Key`.
// Returns missing_api_key when neither carries a key.
Result<std::string_view> presented_key(std::string_view authorization, std::string_view x_intake_key);

// A produce request's credential. Confluent clients send `Authorization: Basic
// base64(<key id>:<secret>)`; the id must then be the id of the key the secret belongs to
// (check_claimed_key_id), so a leaked secret cannot be passed off under another name.
struct PresentedCredential {
  std::string_view secret;
  std::string_view claimed_key_id;  // Basic only; empty otherwise
  std::string basic_decoded;        // owns what `secret` and `claimed_key_id` point into (Basic)

  PresentedCredential() = default;
  PresentedCredential(const PresentedCredential&) = delete;  // the views point into this object
  PresentedCredential& operator=(const PresentedCredential&) = delete;
};

// Fills `credential` from `Authorization: Bearer <key>` or `Basic ...`, else `X-Intake-Key`.
// missing_api_key when none carries one; invalid_api_key for an undecodable Basic value.
Result<void> present_credential(std::string_view authorization, std::string_view x_intake_key,
                                PresentedCredential& credential);

// invalid_api_key iff Basic auth named a key id other than `key`'s.
Result<void> check_claimed_key_id(const config::ApiKey& key, std::string_view claimed_key_id);

// One SHA-256 of the presented secret (or this thread's cached digest of it, see
// crypto/secret_digest_cache.h) and one hash lookup. Unknown → invalid_api_key;
// disabled → key_disabled; past its expires_at → key_expired. The returned pointer lives as
// long as `config`.
Result<const config::ApiKey*> authenticate(const config::Config& config, std::string_view secret,
                                           std::chrono::system_clock::time_point now);

// A verified client certificate instead of a secret: the key whose client_certs lists its
// fingerprint or one of its SANs, with the same disabled and expiry checks. A certificate no key
// lists → missing_api_key (the request presented no credential the gateway knows).
Result<const config::ApiKey*> authenticate_certificate(const config::Config& config, std::string_view sha256_hex,
                                                       const std::vector<std::string>& sans,
                                                       std::chrono::system_clock::time_point now);

// disabled → key_disabled; past its expires_at → key_expired; else `key`.
Result<const config::ApiKey*> check_key_usable(const config::ApiKey* key, std::chrono::system_clock::time_point now);

// Deny by default: the topic must match one of the key's globs, else topic_not_allowed.
Result<void> authorize_topic(const config::ApiKey& key, std::string_view topic);

}  // namespace intake::policy
