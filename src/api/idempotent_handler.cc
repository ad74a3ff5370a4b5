#include "api/idempotent_handler.h"

#include <utility>

#include "crypto/digest.h"

namespace intake::api {

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes) return false;
  for (const char c : key) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

http::Response IdempotentHandler::handle(const http::Request& request, const http::RouteParams& params) {
  const std::string_view idem_key = request.header(kIdempotencyKeyHeader);
  if (idem_key.empty()) return inner_.handle(request, params);
  if (!valid_idempotency_key(idem_key)) {
    return http::error_response(Error{ErrorCode::kBadRequest,
                                      "Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces or "
                                      "control characters)"});
  }
  const std::optional<std::string> key_id = caller_(request);
  if (!key_id) return inner_.handle(request, params);

  using Clock = IdempotencyCache::Clock;
  auto begun = cache_->begin(*key_id, idem_key, crypto::sha256(request.body), request.path, Clock::now());
  switch (begun.outcome) {
    case IdempotencyCache::Outcome::kReplay:
      return std::move(begun.response);
    case IdempotencyCache::Outcome::kInProgress:
      return http::error_response(Error{ErrorCode::kIdempotencyInProgress,
                                        "a request with this Idempotency-Key is still being processed; retry "
                                        "once it has answered"});
    case IdempotencyCache::Outcome::kMismatch:
      return http::error_response(Error{ErrorCode::kIdempotencyKeyReused,
                                        "this Idempotency-Key was already used with another body or path; use a "
                                        "new key for a new request"});
    case IdempotencyCache::Outcome::kFresh:
      break;
  }

  http::Response response = inner_.handle(request, params);
  if (!response.deferred) {
    cache_->complete(*key_id, idem_key, begun.ticket, response, Clock::now());
    return response;
  }

  // Sync: the answer comes later, on the producer's thread. The waker holds the inner
  // response weakly (it is stored inside it) and the outer one strongly.
  auto inner = std::move(response.deferred);
  auto outer = std::make_shared<http::DeferredResponse>();
  auto finish = [cache = cache_, key = *key_id, idem = std::string(idem_key), ticket = begun.ticket,
                 weak_inner = std::weak_ptr<http::DeferredResponse>(inner), outer] {
    auto pending = weak_inner.lock();
    if (!pending) return;
    auto answer = pending->take();
    if (!answer) return;
    cache->complete(key, idem, ticket, *answer, Clock::now());
    outer->complete(std::move(*answer));
  };
  if (inner->set_waker(finish)) {
    // Already answered: no need to defer at all.
    auto answer = inner->take();
    if (!answer) {
      cache_->abandon(*key_id, idem_key, begun.ticket);
      return http::error_response(Error{ErrorCode::kInternal, "the sync answer was lost; retry the request"});
    }
    cache_->complete(*key_id, idem_key, begun.ticket, *answer, Clock::now());
    return std::move(*answer);
  }
  response.deferred = std::move(outer);
  return response;
}

}  // namespace intake::api
