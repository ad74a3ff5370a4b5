#include "api/produce_handler.h"

#include <absl/strings/string_view.h>

#include <charconv>
#include <span>
#include <string>

#include "api/ndjson_decoder.h"
#include "api/record_limit.h"
#include "json/writer.h"
#include "policy/access.h"
#include "policy/topic_name.h"

namespace intake::api {
namespace {

// A refusal after some records of a batch were accepted: the error plus how many were.
http::Response partial_batch_error(const Error& error, std::size_t accepted) {
  auto response = http::error_response(error);
  response.body.pop_back();  // the closing brace of {"error":{...}}
  response.body += R"(,"accepted":)";
  json::append_int(response.body, static_cast<std::int64_t>(accepted));
  response.body += '}';
  return response;
}

}  // namespace

http::Response ProduceHandler::handle(const http::Request& request, const http::RouteParams& params) {
  const bool batch = params.pattern == kBatchRoute;
  if (!batch && params.pattern != kRecordRoute) {
    return http::error_response({ErrorCode::kInternal, "no produce endpoint is wired at " + std::string(params.pattern)});
  }
  auto admitted = admit(request, params);
  if (!admitted) return http::error_response(admitted.error());
  if (batch) return handle_batch(request, std::move(admitted).value());
  return handle_one(request, std::move(admitted).value());
}

Result<ProduceHandler::Admitted> ProduceHandler::admit(const http::Request& request, const http::RouteParams& params) {
  // Authenticate before looking at anything else, so unauthenticated callers learn nothing.
  auto secret = policy::presented_key(request.header("Authorization"), request.header("X-Intake-Key"));
  if (!secret) return std::move(secret).error();

  Admitted admitted;
  admitted.config = store_.current();
  admitted.now = std::chrono::system_clock::now();
  auto key = policy::authenticate(*admitted.config, secret.value(), admitted.now);
  if (!key) return std::move(key).error();
  admitted.key = key.value();

  admitted.topic = params[0];
  if (auto problem = policy::topic_name_problem(admitted.topic); !problem.empty()) {
    return Error{ErrorCode::kInvalidTopic, std::string(problem)};
  }
  if (auto allowed = policy::authorize_topic(*admitted.key, admitted.topic); !allowed) return std::move(allowed).error();
  if (!admitted.key->signing_secret.empty()) {
    const policy::SignatureCheck check{
        .header = request.header("X-Intake-Signature"),
        .body = request.body,
        .signing_secret = admitted.key->signing_secret,
        .key_id = admitted.key->id,
        .now_s = std::chrono::duration_cast<std::chrono::seconds>(admitted.now.time_since_epoch()).count(),
        .window_s = admitted.config->settings.signature_window_s};
    if (auto signed_ok = policy::verify_signature(check, replays_); !signed_ok) return std::move(signed_ok).error();
  }
  // Record size limit and delivery mode from the same snapshot: the topic's own policy, else
  // the registry's settings; the request may override the mode.
  admitted.max_record_bytes = admitted.config->settings.max_record_bytes;
  admitted.mode = admitted.config->settings.default_mode;
  const auto& topics = admitted.config->topics;
  if (auto policy = topics.find(absl::string_view(admitted.topic.data(), admitted.topic.size()));
      policy != topics.end()) {
    if (policy->second.max_record_bytes > 0) admitted.max_record_bytes = policy->second.max_record_bytes;
    if (policy->second.mode) admitted.mode = *policy->second.mode;
  }
  auto sync = requested_sync(request);
  if (!sync) return std::move(sync).error();
  if (sync.value()) admitted.mode = *sync.value() ? config::DeliveryMode::kSync : config::DeliveryMode::kAsync;
  if (request.body.empty()) {
    return Error{ErrorCode::kEmptyBody, "the request body is empty; send the record value as the body"};
  }
  return admitted;
}

void ProduceHandler::fill_headers(const http::Request& request, const Admitted& admitted, Headers& headers) const {
  // The configured request headers that are present, then who sent it and when.
  headers.received_at_ms = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(admitted.now.time_since_epoch()).count());
  for (const auto& name : settings_.copy_headers) {
    if (auto value = request.header(name); !value.empty()) headers.items[headers.count++] = {name, value};
  }
  headers.items[headers.count++] = {"intake-key-id", admitted.key->id};
  headers.items[headers.count++] = {"intake-received-at", headers.received_at_ms};
}

http::Response ProduceHandler::handle_one(const http::Request& request, Admitted admitted) {
  if (auto fits = RecordLimit{admitted.topic, admitted.max_record_bytes}.check(request.body.size()); !fits) {
    return http::error_response(fits.error());
  }
  auto partition = requested_partition(request);
  if (!partition) return http::error_response(partition.error());
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (auto rate = policy::admit_rate(*admitted.key, 1, request.body.size(), now_ns); !rate) {
    return http::error_response(rate.error());
  }
  Headers headers;
  fill_headers(request, admitted, headers);
  kafka::OutgoingRecord record{.topic = admitted.topic,
                               .key = request.header("X-Intake-Record-Key"),
                               .value = request.body,
                               .partition = partition.value(),
                               .headers = std::span<const kafka::RecordHeader>(headers.items.data(), headers.count),
                               .listener = nullptr};
  if (admitted.mode == config::DeliveryMode::kAsync) {
    auto enqueued = sink_.enqueue(record);
    if (!enqueued) return http::error_response(enqueued.error());
    return http::json_response(202, R"({"accepted":1})");
  }

  // Sync: answer once Kafka has acknowledged the record (or refused it).
  auto pending = std::make_shared<http::DeferredResponse>();
  auto* listener = new SyncDelivery(pending, admitted.topic);  // deletes itself after its one report
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

http::Response ProduceHandler::handle_batch(const http::Request& request, Admitted admitted) {
  if (admitted.mode == config::DeliveryMode::kSync) {
    return http::error_response({ErrorCode::kBadRequest,
                                 "batches are async only; send records one by one to /v1/topics/" +
                                     std::string(admitted.topic) + "?sync=true for Kafka's answer per record"});
  }
  if (!request.header("X-Intake-Partition").empty() || !request.header("X-Intake-Record-Key").empty()) {
    return http::error_response({ErrorCode::kBadRequest,
                                 "a batch sets key and partition per line, not with X-Intake-Record-Key or "
                                 "X-Intake-Partition"});
  }
  // Every line is checked before any record is produced, so a bad line rejects the batch whole.
  auto decoded = decode_ndjson(
      request.body, {.record = {admitted.topic, admitted.max_record_bytes}, .max_records = kMaxBatchRecords});
  if (!decoded) return http::error_response(decoded.error());
  const auto& records = decoded.value().records;
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (auto rate = policy::admit_rate(*admitted.key, records.size(), decoded.value().value_bytes, now_ns); !rate) {
    return http::error_response(rate.error());
  }
  Headers headers;
  fill_headers(request, admitted, headers);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const kafka::OutgoingRecord record{.topic = admitted.topic,
                                       .key = records[i].key,
                                       .value = records[i].value,
                                       .partition = records[i].partition,
                                       .headers = std::span<const kafka::RecordHeader>(headers.items.data(), headers.count),
                                       .listener = nullptr};
    if (auto enqueued = sink_.enqueue(record); !enqueued) {
      Error error = std::move(enqueued).error();
      if (i > 0) {
        error.message += "; the first " + std::to_string(i) + " records were accepted, resend from record " +
                         std::to_string(i + 1);
      }
      return partial_batch_error(error, i);
    }
  }
  std::string body = R"({"accepted":)";
  json::append_int(body, static_cast<std::int64_t>(records.size()));
  body += '}';
  return http::json_response(202, std::move(body));
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
