#include "api/produce_gate.h"

#include <absl/strings/string_view.h>

#include <optional>
#include <vector>

#include "encoding/content_decoding.h"
#include "http/router.h"
#include "http/tls_context.h"
#include "json/writer.h"
#include "names/topic_name.h"
#include "policy/access.h"

namespace intake::api {
namespace {

// `?sync=true|false` or `X-Intake-Sync: true|false`; nullopt when the request does not say.
Result<std::optional<bool>> requested_sync(const http::Request& request) {
  std::string_view value = request.header("X-Intake-Sync");
  for (std::string_view rest = request.query; !rest.empty() && value.empty();) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.rfind("sync=", 0) == 0) value = pair.substr(5);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  if (value.empty()) return std::optional<bool>{};
  if (value == "true" || value == "1") return std::optional<bool>{true};
  if (value == "false" || value == "0") return std::optional<bool>{false};
  return Error{ErrorCode::kBadRequest, "sync must be true or false (query ?sync= or X-Intake-Sync)"};
}

// Completes one sync request from the producer's delivery report, then deletes itself.
class SyncDelivery final : public kafka::DeliveryListener {
 public:
  SyncDelivery(std::shared_ptr<http::DeferredResponse> pending, std::string_view topic)
      : pending_(std::move(pending)), topic_(topic) {}

  void on_delivery(const kafka::DeliveryReport& report) override {
    if (report.delivered) {
      std::string body;
      json::Writer(body)
          .begin_object()
          .field("topic", topic_)
          .field("partition", report.partition)
          .field("offset", report.offset)
          .end_object();
      pending_->complete(http::json_response(200, std::move(body)));
    } else {
      pending_->complete(http::error_response(report.error));
    }
    delete this;
  }

 private:
  std::shared_ptr<http::DeferredResponse> pending_;
  std::string topic_;
};

}  // namespace

Result<void> ProduceGate::admit_identity(const http::Request& request, std::string_view topic,
                                         AdmittedRequest& admitted, const config::Config* config) const {
  // Authenticate before looking at anything else, so unauthenticated callers learn nothing.
  admitted.config = config != nullptr ? config : &store_.current_for_request();
  admitted.now = std::chrono::system_clock::now();
  auto key = authenticate(request, *admitted.config, admitted.now);
  if (!key) return std::move(key).error();
  admitted.key = key.value();

  admitted.topic = topic;
  if (auto checked = names::check_topic_name(admitted.topic); !checked) return std::move(checked).error();
  return policy::authorize_topic(*admitted.key, admitted.topic);
}

// An API key the request presents wins; only a request that presents none is taken as the key
// its connection's verified client certificate stands for.
Result<const config::ApiKey*> ProduceGate::authenticate(const http::Request& request, const config::Config& config,
                                                        std::chrono::system_clock::time_point now) {
  const std::string_view authorization = request.header("Authorization");
  const std::string_view x_intake_key = request.header("X-Intake-Key");
  if (request.peer != nullptr && authorization.empty() && x_intake_key.empty()) {
    return policy::authenticate_certificate(config, request.peer->sha256, request.peer->sans, now);
  }
  policy::PresentedCredential credential;
  if (auto presented = policy::present_credential(authorization, x_intake_key, credential); !presented) {
    return std::move(presented).error();
  }
  auto key = policy::authenticate(config, credential.secret, now);
  if (!key) return key;
  if (auto named = policy::check_claimed_key_id(*key.value(), credential.claimed_key_id); !named) {
    return std::move(named).error();
  }
  return key;
}

std::optional<std::string> ProduceGate::caller_key_id(const http::Request& request) const {
  auto key = authenticate(request, store_.current_for_request(), std::chrono::system_clock::now());
  if (!key) return std::nullopt;
  return key.value()->id;
}

Result<void> ProduceGate::check_headers(const http::Request& request, std::string_view topic) const {
  AdmittedRequest admitted;
  if (auto identified = admit_identity(request, topic, admitted); !identified) return identified;
  if (auto sync = requested_sync(request); !sync) return std::move(sync).error();
  if (auto coding = encoding::parse_content_encoding(request.header("Content-Encoding")); !coding) {
    return std::move(coding).error();
  }
  return {};
}

Result<AdmittedRequest> ProduceGate::admit(const http::Request& request, std::string_view topic) {
  // The headers were checked before the body was read; they are checked again against the
  // snapshot in force now, so a key revoked during a slow upload does not produce.
  AdmittedRequest admitted;
  if (auto identified = admit_identity(request, topic, admitted); !identified) return std::move(identified).error();
  if (!admitted.key->signing_secret.empty()) {
    std::vector<policy::HeaderLine> headers;
    if (request.headers != nullptr) {
      request.headers->for_each([&](std::string_view name, std::string_view value) {
        headers.push_back({name, value});
      });
    }
    const policy::SignatureCheck check{
        .header = request.header("X-Intake-Signature"),
        .signing_secret = admitted.key->signing_secret,
        .key_id = admitted.key->id,
        .now_s = std::chrono::duration_cast<std::chrono::seconds>(admitted.now.time_since_epoch()).count(),
        .window_s = admitted.config->settings.signature_window_s,
        .request = {.method = http::method_name(request.method),
                    .path = request.path,
                    .query = request.query,
                    .headers = headers,
                    .copy_headers = settings_.copy_headers,
                    .body = request.body}};
    auto reserved = policy::verify_signature(check, *replays_);
    if (!reserved) return std::move(reserved).error();
    admitted.replay = std::move(reserved).value();
  }
  if (auto settled = settle_limits(request, admitted); !settled) return std::move(settled).error();
  admitted.wire_body = request.body;
  auto decoded =
      encoding::decode_content(request.header("Content-Encoding"), request.body, settings_.max_decoded_body_bytes);
  if (!decoded) return std::move(decoded).error();
  admitted.decoded = std::move(decoded).value();
  if (admitted.body().empty()) {
    return Error{ErrorCode::kEmptyBody, "the request body is empty; send the record value as the body"};
  }
  return admitted;
}

Result<void> ProduceGate::settle_limits(const http::Request& request, AdmittedRequest& admitted) const {
  // Record size limit and delivery mode from the same snapshot: the topic's own policy, else
  // the registry's settings; the request may override the mode.
  admitted.limit = {.topic = admitted.topic, .max_bytes = admitted.config->settings.max_record_bytes};
  admitted.mode = admitted.config->settings.default_mode;
  const auto& topics = admitted.config->topics;
  if (auto policy = topics.find(absl::string_view(admitted.topic.data(), admitted.topic.size()));
      policy != topics.end()) {
    if (policy->second.max_record_bytes > 0) admitted.limit.max_bytes = policy->second.max_record_bytes;
    if (policy->second.mode) admitted.mode = *policy->second.mode;
  }
  auto sync = requested_sync(request);
  if (!sync) return std::move(sync).error();
  if (sync.value()) admitted.mode = *sync.value() ? config::DeliveryMode::kSync : config::DeliveryMode::kAsync;
  return {};
}

Result<AdmittedRequest> ProduceGate::admit_stream(const http::Request& request, std::string_view topic) const {
  AdmittedRequest admitted;
  admitted.pinned = store_.current();
  if (auto identified = admit_identity(request, topic, admitted, admitted.pinned.get()); !identified) {
    return std::move(identified).error();
  }
  if (!admitted.key->signing_secret.empty()) {
    return Error{ErrorCode::kSignatureRequired,
                 "a signing key's request is verified over its whole body, not streamed"};
  }
  if (!request.header("Content-Encoding").empty()) {
    return Error{ErrorCode::kUnsupportedEncoding, "a streamed request must not be compressed"};
  }
  if (auto settled = settle_limits(request, admitted); !settled) return std::move(settled).error();
  return admitted;
}

Result<void> ProduceGate::admit_rate(const AdmittedRequest& admitted, std::size_t records, std::size_t bytes) const {
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  return limiter_.admit(*admitted.key, records, bytes, now_ns);
}

void ProduceGate::fill_headers(const http::Request& request, const AdmittedRequest& admitted,
                               RecordHeaders& headers) const {
  // The configured request headers that are present, then who sent it and when.
  headers.received_at_ms =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(admitted.now.time_since_epoch()).count());
  for (const auto& name : settings_.copy_headers) {
    if (auto value = request.header(name); !value.empty()) headers.items[headers.count++] = {name, value};
  }
  headers.items[headers.count++] = {"intake-key-id", admitted.key->id};
  headers.items[headers.count++] = {"intake-received-at", headers.received_at_ms};
  // So consumers can drop the duplicates the gateway cannot catch: a retry after the cache's
  // window, or one that reached another gateway instance.
  if (auto idem = request.header("Idempotency-Key"); !idem.empty()) {
    headers.items[headers.count++] = {"intake-idempotency-key", idem};
  }
}

http::Response ProduceGate::produce_and_wait(kafka::OutgoingRecord record) {
  auto pending = std::make_shared<http::DeferredResponse>();
  auto* listener = new SyncDelivery(pending, record.topic);  // deletes itself after its one report
  record.listener = listener;
  auto enqueued = sink_.enqueue(record);
  if (!enqueued) {
    delete listener;  // the sink did not take the record, so no report will come
    return http::error_response(enqueued.error());
  }
  accepted_.count(record.topic, record.value.size());
  http::Response response;
  response.deferred = std::move(pending);
  response.deferred_timeout_ms = settings_.sync_timeout_ms;
  return response;
}

http::Response ProduceGate::answer(AdmittedRequest& admitted, http::Response response) {
  if (!admitted.replay.held()) return response;
  const auto accepted = [](int status) { return status >= 200 && status < 300; };
  if (response.deferred) {
    // std::function needs a copyable callable; the reservation is shared by its one observer.
    auto held = std::make_shared<policy::ReplayReservation>(std::move(admitted.replay));
    response.deferred->on_complete([held, accepted](int status) {
      if (accepted(status)) {
        held->commit();
      } else {
        held->release();
      }
    });
  } else if (accepted(response.status)) {
    admitted.replay.commit();
  } else {
    admitted.replay.release();
  }
  return response;
}

std::span<const kafka::RecordHeader> with_record_headers(const RecordHeaders& request_headers,
                                                         std::span<const std::pair<std::string, std::string>> own,
                                                         std::vector<kafka::RecordHeader>& scratch) {
  if (own.empty()) return request_headers.view();
  scratch.clear();
  for (const auto& [name, value] : own) scratch.push_back({name, value});
  const auto base = request_headers.view();
  scratch.insert(scratch.end(), base.begin(), base.end());
  return scratch;
}

http::Response accepted_response(std::size_t records) {
  std::string body;
  json::Writer(body).begin_object().field("accepted", records).end_object();
  return http::json_response(202, std::move(body));
}

}  // namespace intake::api
