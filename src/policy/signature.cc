#include "policy/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <utility>
#include <vector>

#include "crypto/digest.h"

namespace intake::policy {
namespace {

using Mac = std::array<unsigned char, 32>;

constexpr std::string_view kV2Scheme = "INTAKE-HMAC-SHA256-V2";
constexpr std::size_t kMaxCandidates = 4;

// OpenSSL 3's EVP_MAC interface (the HMAC_CTX calls are deprecated there). The algorithm is
// fetched once; a context per call keeps this thread-safe.
Mac hmac_sha256(std::string_view secret, std::initializer_list<std::string_view> parts) {
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  Mac mac{};
  std::size_t length = 0;
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                               OSSL_PARAM_construct_end()};
  EVP_MAC_CTX* context = EVP_MAC_CTX_new(kHmac);
  EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), params);
  for (std::string_view part : parts) {
    EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
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

bool any_matches(std::span<const std::string_view> candidates, const Mac& expected) {
  bool matched = false;
  for (std::string_view candidate : candidates) {
    Mac presented{};
    if (parse_hex_mac(candidate, presented) && CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0) {
      matched = true;
    }
  }
  return matched;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

// Which headers a v2 signature covers (lowercase names): every X-Intake-* but the signature
// itself, the ones that change how the body is read or deduplicated, and the copied ones.
bool is_signed_header(std::string_view lower_name, std::span<const std::string> copy_headers) {
  if (lower_name.rfind("x-intake-", 0) == 0) return lower_name != "x-intake-signature";
  if (lower_name == "content-type" || lower_name == "content-encoding" || lower_name == "idempotency-key") return true;
  return std::any_of(copy_headers.begin(), copy_headers.end(),
                     [&](const std::string& copied) { return lowercase(copied) == lower_name; });
}

// The query's parameters sorted by name, then value, each as sent.
std::string canonical_query(std::string_view query) {
  if (query.empty()) return {};
  struct Parameter {
    std::string_view name, value, text;
  };
  std::vector<Parameter> parameters;
  for (std::string_view rest = query;;) {
    const auto amp = rest.find('&');
    const std::string_view text = rest.substr(0, amp);
    const auto equals = text.find('=');
    parameters.push_back({text.substr(0, equals),
                          equals == std::string_view::npos ? std::string_view{} : text.substr(equals + 1), text});
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  std::stable_sort(parameters.begin(), parameters.end(), [](const Parameter& a, const Parameter& b) {
    return std::pair(a.name, a.value) < std::pair(b.name, b.value);
  });
  std::string out;
  out.reserve(query.size());
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (i > 0) out.push_back('&');
    out.append(parameters[i].text);
  }
  return out;
}

Error invalid(std::string message) { return Error{ErrorCode::kInvalidSignature, std::move(message)}; }

struct ParsedHeader {
  std::string_view timestamp;
  std::string_view nonce;
  std::array<std::string_view, kMaxCandidates> v1{}, v2{};
  std::size_t v1_count = 0, v2_count = 0;
};

ParsedHeader parse_header(std::string_view header) {
  ParsedHeader parsed;
  for (std::string_view rest = header; !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.rfind("t=", 0) == 0) {
      parsed.timestamp = part.substr(2);
    } else if (part.rfind("n=", 0) == 0) {
      parsed.nonce = part.substr(2);
    } else if (part.rfind("v1=", 0) == 0 && parsed.v1_count < kMaxCandidates) {
      parsed.v1[parsed.v1_count++] = part.substr(3);
    } else if (part.rfind("v2=", 0) == 0 && parsed.v2_count < kMaxCandidates) {
      parsed.v2[parsed.v2_count++] = part.substr(3);
    }
  }
  return parsed;
}

}  // namespace

bool valid_nonce(std::string_view nonce) {
  if (nonce.size() < 16 || nonce.size() > 128) return false;
  return std::all_of(nonce.begin(), nonce.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string canonical_string_v2(const RequestToSign& request, std::string_view timestamp, std::string_view nonce) {
  // Signed headers by lowercase name; a header sent several times is one line, its values in
  // the order received joined by ",".
  std::vector<std::pair<std::string, std::string>> signed_headers;
  for (const HeaderLine& header : request.headers) {
    std::string name = lowercase(header.name);
    if (!is_signed_header(name, request.copy_headers)) continue;
    auto same = std::find_if(signed_headers.begin(), signed_headers.end(),
                             [&](const auto& line) { return line.first == name; });
    if (same == signed_headers.end()) {
      signed_headers.emplace_back(std::move(name), trim(header.value));
    } else {
      same->second.append(",").append(trim(header.value));
    }
  }
  std::sort(signed_headers.begin(), signed_headers.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  out.reserve(256 + request.path.size() + request.query.size());
  out.append(kV2Scheme).push_back('\n');
  out.append(request.method).push_back('\n');
  out.append(request.path).push_back('\n');
  out.append(canonical_query(request.query)).push_back('\n');
  for (const auto& [name, value] : signed_headers) out.append(name).append(":").append(value).push_back('\n');
  out.append(crypto::to_hex(crypto::sha256(request.body))).push_back('\n');
  out.append(timestamp).push_back('\n');
  out.append(nonce);
  return out;
}

Result<ReplayReservation> verify_signature(const SignatureCheck& check, ReplayCache& replays) {
  if (check.header.empty()) {
    return Error{ErrorCode::kSignatureRequired,
                 "API key '" + std::string(check.key_id) +
                     "' requires X-Intake-Signature: t=<unix seconds>,n=<nonce>,v2=<hex HMAC-SHA256 of the canonical "
                     "request> (docs/access-control.md)"};
  }
  const ParsedHeader parsed = parse_header(check.header);
  const bool v2 = parsed.v2_count > 0;  // v2 governs a header that also has v1=
  std::int64_t timestamp_s = 0;
  auto [end, ec] =
      std::from_chars(parsed.timestamp.data(), parsed.timestamp.data() + parsed.timestamp.size(), timestamp_s);
  if (parsed.timestamp.empty() || ec != std::errc() || end != parsed.timestamp.data() + parsed.timestamp.size() ||
      (!v2 && parsed.v1_count == 0)) {
    return invalid("X-Intake-Signature must look like t=<unix seconds>,n=<nonce>,v2=<64 hex digits>");
  }
  if (v2 && !valid_nonce(parsed.nonce)) {
    return invalid("the signature's nonce (n=) must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'");
  }
  if (timestamp_s < check.now_s - check.window_s || timestamp_s > check.now_s + check.window_s) {
    return Error{ErrorCode::kSignatureExpired, "the signature's timestamp is more than " +
                                                   std::to_string(check.window_s) +
                                                   " s away from the server's clock (" + std::to_string(check.now_s) +
                                                   "); sign with the current time"};
  }
  const std::int64_t expires_s = timestamp_s + check.window_s;
  if (v2) {
    const std::string canonical = canonical_string_v2(check.request, parsed.timestamp, parsed.nonce);
    const Mac expected = hmac_sha256(check.signing_secret, {canonical});
    if (!any_matches(std::span(parsed.v2.data(), parsed.v2_count), expected)) {
      return invalid(
          "the signature does not match the request; sign the canonical request (method, path, query, signed "
          "headers, body hash, t, n) with the key's signing secret, as docs/access-control.md describes");
    }
    return replays.reserve(check.key_id, "n:" + std::string(parsed.nonce), expires_s, check.now_s);
  }
  const Mac expected = hmac_sha256(check.signing_secret, {parsed.timestamp, ".", check.request.body});
  if (!any_matches(std::span(parsed.v1.data(), parsed.v1_count), expected)) {
    return invalid("the signature does not match the body; sign t + \".\" + body with the key's signing secret");
  }
  // Remember the MAC itself, not the text presented: the same MAC re-sent in upper case (or
  // any other spelling the hex parser accepts) is the same signature.
  return replays.reserve(check.key_id, "s:" + crypto::to_hex(expected), expires_s, check.now_s);
}

std::string sign_request_v2(std::string_view signing_secret, const RequestToSign& request, std::int64_t timestamp_s,
                            std::string_view nonce) {
  const std::string timestamp = std::to_string(timestamp_s);
  const Mac mac = hmac_sha256(signing_secret, {canonical_string_v2(request, timestamp, nonce)});
  return "t=" + timestamp + ",n=" + std::string(nonce) + ",v2=" + crypto::to_hex(mac);
}

std::string sign_request(std::string_view signing_secret, std::int64_t timestamp_s, std::string_view body) {
  const std::string timestamp = std::to_string(timestamp_s);
  return "t=" + timestamp + ",v1=" + crypto::to_hex(hmac_sha256(signing_secret, {timestamp, ".", body}));
}

}  // namespace intake::policy
