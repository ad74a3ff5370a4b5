// Request signing, per key (docs/access-control.md has the byte-exact definition):
//
//   X-Intake-Signature: t=<unix seconds>,n=<nonce>,v2=<hex>
//
// where v2 is HMAC-SHA256(signing_secret, canonical_string_v2(request, t, n)): the method,
// path, sorted query, the signed headers, the body's SHA-256, t and n. The nonce is 16 to 128
// characters of [A-Za-z0-9_-]. Several v2= values may be sent (secret rotation); one match is
// enough. A signature is valid within ±window of the server's clock, and each (key, nonce)
// once: verify_signature reserves it in the ReplayCache, and the caller commits the
// reservation once the request was accepted.
//
// Deprecated, verified for one more release: `t=<unix seconds>,v1=<hex>` where v1 is
// HMAC-SHA256(signing_secret, t + "." + body); its replay id is the MAC itself. A header with
// both v1= and v2= is verified as v2 only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "error/result.h"
#include "policy/replay_cache.h"

namespace intake::policy {

// One request header as received.
struct HeaderLine {
  std::string_view name;
  std::string_view value;
};

// The parts of a request a v2 signature covers.
struct RequestToSign {
  std::string_view method;  // "POST"
  std::string_view path;    // as sent, without the query
  std::string_view query;   // as sent, after '?'; may be empty
  // Every request header, in the order received; canonical_string_v2 picks the signed ones.
  std::span<const HeaderLine> headers;
  // kafka.copy_headers: signed too when present, as they end up in the records.
  std::span<const std::string> copy_headers;
  std::string_view body;  // as sent (before any Content-Encoding is undone)
};

struct SignatureCheck {
  std::string_view header;  // X-Intake-Signature
  std::string_view signing_secret;
  std::string_view key_id;
  std::int64_t now_s = 0;  // unix seconds
  std::int64_t window_s = 300;
  RequestToSign request;
};

// On success, the request's reservation in `replays` (commit it once the request is
// accepted). Errors: signature_required, invalid_signature, signature_expired,
// signature_replayed, or server_busy when the replay cache is full.
Result<ReplayReservation> verify_signature(const SignatureCheck& check, ReplayCache& replays);

// The string a v2 MAC is computed over, for `timestamp` and `nonce` as they appear in the header.
std::string canonical_string_v2(const RequestToSign& request, std::string_view timestamp, std::string_view nonce);

// True iff `nonce` is 16 to 128 characters of [A-Za-z0-9_-].
bool valid_nonce(std::string_view nonce);

// The header values a client would send (for tests, docs and client libraries).
std::string sign_request_v2(std::string_view signing_secret, const RequestToSign& request, std::int64_t timestamp_s,
                            std::string_view nonce);
// Deprecated v1: t + "." + body.
std::string sign_request(std::string_view signing_secret, std::int64_t timestamp_s, std::string_view body);

}  // namespace intake::policy
