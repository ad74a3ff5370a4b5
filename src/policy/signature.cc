#include "policy/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <functional>

namespace intake::policy {
namespace {

using Mac = std::array<unsigned char, 32>;

// OpenSSL 3's EVP_MAC interface (the HMAC_CTX calls are deprecated there). The algorithm is
// fetched once; a context per call keeps this thread-safe.
Mac hmac_sha256(std::string_view secret, std::string_view timestamp, std::string_view body) {
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  Mac mac{};
  std::size_t length = 0;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                               OSSL_PARAM_construct_end()};
  EVP_MAC_CTX* context = EVP_MAC_CTX_new(kHmac);
  EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params);
  EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(timestamp.data()), timestamp.size());
  EVP_MAC_update(context, reinterpret_cast<const unsigned char*>("."), 1);
  EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  EVP_MAC_final(context, mac.data(), &length, mac.size());
  EVP_MAC_CTX_free(context);
  return mac;
}

bool parse_hex_mac(std::string_view hex, Mac& out) {
  if (hex.size() != out.size() * 2) return false;
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = value(hex[2 * i]), low = value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

Error signature_error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace

bool ReplayCache::first_use(std::string_view key_id, std::string_view signature, std::int64_t forget_after_s,
                            std::int64_t now_s) {
  std::string entry;
  entry.reserve(key_id.size() + 1 + signature.size());
  entry.append(key_id).append(":").append(signature);
  Shard& shard = shards_[std::hash<std::string>{}(entry) % kShards];
  std::lock_guard lock(shard.mutex);
  // Forget expired signatures now and then: memory stays bounded by rate × window.
  if (now_s >= shard.next_prune_s) {
    absl::erase_if(shard.forget_after_s, [now_s](const auto& item) { return item.second < now_s; });
    shard.next_prune_s = now_s + 10;
  }
  auto [it, inserted] = shard.forget_after_s.emplace(std::move(entry), forget_after_s);
  if (!inserted && it->second < now_s) {  // seen, but long enough ago to be outside any window
    it->second = forget_after_s;
    return true;
  }
  return inserted;
}

std::size_t ReplayCache::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.forget_after_s.size();
  }
  return total;
}

Result<void> verify_signature(const SignatureCheck& check, ReplayCache& replays) {
  if (check.header.empty()) {
    return signature_error(ErrorCode::kSignatureRequired,
                           "API key '" + std::string(check.key_id) +
                               "' requires X-Intake-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>");
  }
  std::string_view timestamp;
  std::int64_t timestamp_s = 0;
  std::string_view candidates[4];
  std::size_t candidate_count = 0;
  std::string_view rest = check.header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.rfind("t=", 0) == 0) {
      timestamp = part.substr(2);
    } else if (part.rfind("v1=", 0) == 0 && candidate_count < std::size(candidates)) {
      candidates[candidate_count++] = part.substr(3);
    }
  }
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), timestamp_s);
  if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size() || candidate_count == 0) {
    return signature_error(ErrorCode::kInvalidSignature,
                           "X-Intake-Signature must look like t=<unix seconds>,v1=<64 hex digits>");
  }
  if (timestamp_s < check.now_s - check.window_s || timestamp_s > check.now_s + check.window_s) {
    return signature_error(ErrorCode::kSignatureExpired,
                           "the signature's timestamp is more than " + std::to_string(check.window_s) +
                               " s away from the server's clock (" + std::to_string(check.now_s) +
                               "); sign with the current time");
  }
  const Mac expected = hmac_sha256(check.signing_secret, timestamp, check.body);
  bool matched = false;
  for (std::size_t i = 0; i < candidate_count; ++i) {
    Mac presented{};
    if (parse_hex_mac(candidates[i], presented) &&
        CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0) {
      matched = true;
    }
  }
  if (!matched) {
    return signature_error(
        ErrorCode::kInvalidSignature,
        "the signature does not match the body; sign t + \".\" + body with the key's signing secret");
  }
  // Remember the MAC itself, not the text presented: the same MAC re-sent in upper case (or
  // any other spelling the hex parser accepts) is the same signature.
  static constexpr char kHex[] = "0123456789abcdef";
  char canonical[2 * std::tuple_size_v<Mac>];
  for (std::size_t i = 0; i < expected.size(); ++i) {
    canonical[2 * i] = kHex[expected[i] >> 4];
    canonical[2 * i + 1] = kHex[expected[i] & 0xF];
  }
  if (!replays.first_use(check.key_id, std::string_view(canonical, sizeof(canonical)), timestamp_s + check.window_s,
                         check.now_s)) {
    return signature_error(ErrorCode::kSignatureReplayed, "this signature was already used; sign every request anew");
  }
  return {};
}

std::string sign_request(std::string_view signing_secret, std::int64_t timestamp_s, std::string_view body) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string timestamp = std::to_string(timestamp_s);
  const Mac mac = hmac_sha256(signing_secret, timestamp, body);
  std::string header = "t=" + timestamp + ",v1=";
  for (unsigned char byte : mac) {
    header.push_back(kHex[byte >> 4]);
    header.push_back(kHex[byte & 0xF]);
  }
  return header;
}

}  // namespace intake::policy
