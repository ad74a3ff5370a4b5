#include "api/produce_handler.h"

#include <absl/strings/string_view.h>

#include <chrono>
#include <string>

#include "policy/access.h"
#include "policy/topic_name.h"

namespace intake::api {

http::Response ProduceHandler::handle(const http::Request& request, const http::RouteParams& params) {
  // Authenticate before looking at anything else, so unauthenticated callers learn nothing.
  auto secret = policy::presented_key(request.header("Authorization"), request.header("X-Intake-Key"));
  if (!secret) return http::error_response(secret.error());

  // One snapshot for the whole request: the key and its rights come from the same version.
  const auto config = store_.current();
  const auto now = std::chrono::system_clock::now();
  auto key = policy::authenticate(*config, secret.value(), now);
  if (!key) return http::error_response(key.error());

  const std::string_view topic = params[0];
  if (auto problem = policy::topic_name_problem(topic); !problem.empty()) {
    return http::error_response({ErrorCode::kInvalidTopic, std::string(problem)});
  }
  if (auto allowed = policy::authorize_topic(*key.value(), topic); !allowed) {
    return http::error_response(allowed.error());
  }
  if (!key.value()->signing_secret.empty()) {
    const policy::SignatureCheck check{
        .header = request.header("X-Intake-Signature"),
        .body = request.body,
        .signing_secret = key.value()->signing_secret,
        .key_id = key.value()->id,
        .now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
        .window_s = config->settings.signature_window_s};
    if (auto signed_ok = policy::verify_signature(check, replays_); !signed_ok) {
      return http::error_response(signed_ok.error());
    }
  }
  // Record size limits from the same snapshot: the topic's own, else the registry's default.
  std::size_t max_record_bytes = config->settings.max_record_bytes;
  if (auto policy = config->topics.find(absl::string_view(topic.data(), topic.size())); policy != config->topics.end() && policy->second.max_record_bytes > 0) {
    max_record_bytes = policy->second.max_record_bytes;
  }
  if (max_record_bytes > 0 && request.body.size() > max_record_bytes) {
    return http::error_response({ErrorCode::kPayloadTooLarge, "the record has " + std::to_string(request.body.size()) +
                                                                  " bytes; topic '" + std::string(topic) +
                                                                  "' accepts at most " + std::to_string(max_record_bytes)});
  }
  if (request.body.empty()) {
    return http::error_response({ErrorCode::kEmptyBody, "the request body is empty; send the record value as the body"});
  }

  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (auto admitted = policy::admit_rate(*key.value(), request.body.size(), now_ns); !admitted) {
    return http::error_response(admitted.error());
  }
  auto enqueued = sink_.enqueue({.topic = topic, .key = request.header("X-Intake-Record-Key"), .value = request.body});
  if (!enqueued) return http::error_response(enqueued.error());
  return http::json_response(202, R"({"accepted":1})");
}

}  // namespace intake::api
