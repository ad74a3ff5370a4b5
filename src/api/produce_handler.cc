#include "api/produce_handler.h"

#include <absl/strings/string_view.h>

#include <array>
#include <charconv>
#include <chrono>
#include <span>
#include <string>

#include "json/writer.h"
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
  // Record size limits and delivery mode from the same snapshot: the topic's own policy,
  // else the registry's settings.
  std::size_t max_record_bytes = config->settings.max_record_bytes;
  config::DeliveryMode mode = config->settings.default_mode;
  if (auto policy = config->topics.find(absl::string_view(topic.data(), topic.size())); policy != config->topics.end()) {
    if (policy->second.max_record_bytes > 0) max_record_bytes = policy->second.max_record_bytes;
    if (policy->second.mode) mode = *policy->second.mode;
  }
  if (max_record_bytes > 0 && request.body.size() > max_record_bytes) {
    return http::error_response({ErrorCode::kPayloadTooLarge, "the record has " + std::to_string(request.body.size()) +
                                                                  " bytes; topic '" + std::string(topic) +
                                                                  "' accepts at most " + std::to_string(max_record_bytes)});
  }
  if (request.body.empty()) {
    return http::error_response({ErrorCode::kEmptyBody, "the request body is empty; send the record value as the body"});
  }
  auto sync = requested_sync(request);
  if (!sync) return http::error_response(sync.error());
  if (sync.value()) mode = *sync.value() ? config::DeliveryMode::kSync : config::DeliveryMode::kAsync;
  auto partition = requested_partition(request);
  if (!partition) return http::error_response(partition.error());

  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (auto admitted = policy::admit_rate(*key.value(), request.body.size(), now_ns); !admitted) {
    return http::error_response(admitted.error());
  }

  // Record headers: the configured request headers that are present, then who sent it and when.
  const std::string received_at_ms =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  std::array<kafka::RecordHeader, kMaxCopiedHeaders + 2> headers;
  std::size_t header_count = 0;
  for (const auto& name : settings_.copy_headers) {
    if (auto value = request.header(name); !value.empty()) headers[header_count++] = {name, value};
  }
  headers[header_count++] = {"intake-key-id", key.value()->id};
  headers[header_count++] = {"intake-received-at", received_at_ms};

  kafka::OutgoingRecord record{.topic = topic,
                               .key = request.header("X-Intake-Record-Key"),
                               .value = request.body,
                               .partition = partition.value(),
                               .headers = std::span<const kafka::RecordHeader>(headers.data(), header_count),
                               .listener = nullptr};
  if (mode == config::DeliveryMode::kAsync) {
    auto enqueued = sink_.enqueue(record);
    if (!enqueued) return http::error_response(enqueued.error());
    return http::json_response(202, R"({"accepted":1})");
  }

  // Sync: answer once Kafka has acknowledged the record (or refused it).
  auto pending = std::make_shared<http::DeferredResponse>();
  auto* listener = new SyncDelivery(pending, topic);  // deletes itself after its one report
  record.listener = listener;
  auto enqueued = sink_.enqueue(record);
  if (!enqueued) {
    delete listener;  // the sink did not take the record, so no report will come
    return http::error_response(enqueued.error());
  }
  http::Response response;
  response.deferred = std::move(pending);
  response.deferred_timeout_ms = settings_.sync_timeout_ms;
  return response;
}

Result<std::optional<bool>> ProduceHandler::requested_sync(const http::Request& request) {
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

Result<std::int32_t> ProduceHandler::requested_partition(const http::Request& request) {
  const std::string_view text = request.header("X-Intake-Partition");
  if (text.empty()) return -1;
  std::int32_t partition = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), partition);
  if (ec != std::errc() || end != text.data() + text.size() || partition < 0) {
    return Error{ErrorCode::kBadRequest, "X-Intake-Partition must be a partition number (0 or more)"};
  }
  return partition;
}

ProduceHandler::SyncDelivery::SyncDelivery(std::shared_ptr<http::DeferredResponse> pending, std::string_view topic)
    : pending_(std::move(pending)), topic_(topic) {}

void ProduceHandler::SyncDelivery::on_delivery(const kafka::DeliveryReport& report) {
  if (report.delivered) {
    std::string body = R"({"topic":)";
    json::append_string(body, topic_);
    body += R"(,"partition":)";
    json::append_int(body, report.partition);
    body += R"(,"offset":)";
    json::append_int(body, report.offset);
    body += '}';
    pending_->complete(http::json_response(200, std::move(body)));
  } else {
    pending_->complete(http::error_response(report.error));
  }
  delete this;
}

}  // namespace intake::api
