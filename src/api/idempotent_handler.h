// A produce handler that honours `Idempotency-Key`: a retry of a request that was answered
// 2xx gets that answer again (same status and body) without its records being produced
// twice. Wraps any produce handler; requests without the header pass straight through.
//
// - The header must be 1–255 visible ASCII characters (0x21–0x7E), else 400 bad_request.
// - Entries are per caller: `caller` names the authenticated API key (ProduceGate::caller_key_id
//   in the gateway). A request it cannot name goes to the inner handler, which refuses it.
// - Same key with another body or path: 422 idempotency_key_reused. Same key while the first
//   request still runs: 409 idempotency_in_progress, Retry-After 1.
// - Only a 2xx answer is kept; an error answer produced nothing, so a retry runs afresh.
// - Sync requests answer later: the answer is stored when Kafka's report arrives, even if the
//   server already answered 504 — a retry then learns the record's real fate. An answer that
//   never arrives leaves the entry in flight until the cache's window expires it.
// - A replay costs no rate and re-checks no signature: the first request paid both.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/idempotency_cache.h"
#include "http/router.h"

namespace intake::api {

inline constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 255;

// The authenticated API key id of the caller, or nullopt when the request does not
// authenticate.
using CallerIdentity = std::function<std::optional<std::string>(const http::Request&)>;

// Returns true iff `key` is 1–255 characters in 0x21–0x7E.
bool valid_idempotency_key(std::string_view key);

class IdempotentHandler final : public http::Handler {
 public:
  // `inner` must outlive this handler. `cache` is shared because a sync answer may complete
  // it from the producer's thread after the request is gone (even during shutdown's flush).
  IdempotentHandler(http::Handler& inner, std::shared_ptr<IdempotencyCache> cache, CallerIdentity caller)
      : inner_(inner), cache_(std::move(cache)), caller_(std::move(caller)) {}

  std::optional<http::Response> check_headers(const http::Request& request, const http::RouteParams& params) override {
    return inner_.check_headers(request, params);
  }

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

  // Streams are the inner handler's; one with an Idempotency-Key is read whole instead, so
  // its answer can be kept (a stream's reports cannot be replayed as one answer).
  std::unique_ptr<http::BodyStream> open_stream(const http::Request& request, const http::RouteParams& params,
                                                const std::shared_ptr<http::StreamOutput>& output) override {
    if (!request.header("Idempotency-Key").empty()) return nullptr;
    return inner_.open_stream(request, params, output);
  }

 private:
  http::Handler& inner_;
  std::shared_ptr<IdempotencyCache> cache_;
  CallerIdentity caller_;
};

}  // namespace intake::api
