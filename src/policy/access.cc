#include "policy/access.h"

#include <string>

#include "crypto/secret_digest_cache.h"
#include "encoding/base64.h"
#include "policy/glob.h"

namespace intake::policy {
namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = text[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<std::string_view> presented_key(std::string_view authorization, std::string_view x_intake_key) {
  authorization = trim(authorization);
  if (!authorization.empty()) {
    if (!iequals_prefix(authorization, "bearer ")) {
      return make_error(ErrorCode::kMissingApiKey, "the Authorization header must be 'Bearer <api key>'");
    }
    auto key = trim(authorization.substr(7));
    if (key.empty()) return make_error(ErrorCode::kMissingApiKey, "the Bearer token is empty");
    return key;
  }
  x_intake_key = trim(x_intake_key);
  if (!x_intake_key.empty()) return x_intake_key;
  return make_error(ErrorCode::kMissingApiKey,
                    "send your API key as 'Authorization: Bearer <api key>' or 'X-Intake-Key: <api key>'");
}

Result<void> present_credential(std::string_view authorization, std::string_view x_intake_key,
                                PresentedCredential& credential) {
  const std::string_view trimmed = trim(authorization);
  if (!iequals_prefix(trimmed, "basic ")) {
    auto key = presented_key(authorization, x_intake_key);
    if (!key) {
      if (!trimmed.empty()) {
        return make_error(ErrorCode::kMissingApiKey,
                          "the Authorization header must be 'Bearer <api key>' or 'Basic base64(<key id>:<api key>)'");
      }
      return std::move(key).error();
    }
    credential.secret = key.value();
    credential.claimed_key_id = {};
    return {};
  }
  auto decoded = encoding::base64_decode(trim(trimmed.substr(6)));
  const auto colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) {
    return make_error(ErrorCode::kInvalidApiKey,
                      "Basic credentials must be base64('<key id>:<api key>'), e.g. curl -u demo:<api key>");
  }
  credential.basic_decoded = std::move(*decoded);
  const std::string_view pair = credential.basic_decoded;
  credential.claimed_key_id = pair.substr(0, colon);
  credential.secret = pair.substr(colon + 1);
  if (credential.secret.empty())
    return make_error(ErrorCode::kMissingApiKey, "the Basic password (the API key) is empty");
  return {};
}

Result<void> check_claimed_key_id(const config::ApiKey& key, std::string_view claimed_key_id) {
  if (claimed_key_id.empty() || claimed_key_id == key.id) return {};
  return make_error(ErrorCode::kInvalidApiKey,
                    "the Basic user name must be the id of the key whose secret is the password");
}

Result<const config::ApiKey*> authenticate(const config::Config& config, std::string_view secret,
                                           std::chrono::system_clock::time_point now) {
  const config::ApiKey* key = config.find_key(crypto::SecretDigestCache::for_this_thread().digest(secret));
  if (key == nullptr) {
    return make_error(ErrorCode::kInvalidApiKey, "the API key is not valid; check it or ask for a new one");
  }
  return check_key_usable(key, now);
}

Result<const config::ApiKey*> authenticate_certificate(const config::Config& config, std::string_view sha256_hex,
                                                       const std::vector<std::string>& sans,
                                                       std::chrono::system_clock::time_point now) {
  const config::ApiKey* key = config.find_key_by_cert(sha256_hex, sans);
  if (key == nullptr) {
    return make_error(ErrorCode::kMissingApiKey,
                      "the client certificate (sha256:" + std::string(sha256_hex) +
                          ") is not listed in any key's client_certs; send an API key or register the certificate");
  }
  return check_key_usable(key, now);
}

Result<const config::ApiKey*> check_key_usable(const config::ApiKey* key, std::chrono::system_clock::time_point now) {
  if (!key->enabled) {
    return make_error(ErrorCode::kKeyDisabled, "API key '" + key->id + "' is disabled");
  }
  if (key->expires_at && now >= *key->expires_at) {
    return make_error(ErrorCode::kKeyExpired, "API key '" + key->id + "' has expired; ask for a new one");
  }
  return key;
}

Result<void> authorize_topic(const config::ApiKey& key, std::string_view topic) {
  for (const auto& pattern : key.topic_patterns) {
    if (glob_match(pattern, topic)) return {};
  }
  return make_error(ErrorCode::kTopicNotAllowed,
                    "API key '" + key.id + "' may not write to topic '" + std::string(topic) + "'");
}

}  // namespace intake::policy
