#include "api/confluent_v2_handler.h"

#include <simdjson.h>

#include <charconv>
#include <span>
#include <string>
#include <vector>

#include "api/batch_delivery.h"
#include "api/confluent_errors.h"
#include "api/confluent_v2_body.h"
#include "http/media_type.h"
#include "json/writer.h"

namespace intake::api {
namespace {

// The Content-Types, in match order; the first kServedFormats are produced.
constexpr std::size_t kServedFormats = 3;

Result<ConfluentFormat> served_format(const http::Request& request) {
  auto index =
      http::match_media_type(request.header("Content-Type"),
                             {"application/vnd.kafka.json.v2+json", "application/json",
                              "application/vnd.kafka.binary.v2+json", "application/vnd.kafka.avro.v2+json",
                              "application/vnd.kafka.protobuf.v2+json", "application/vnd.kafka.jsonschema.v2+json"},
                             std::nullopt);
  if (!index) return std::move(index).error();
  if (index.value() < kServedFormats) return index.value() == 2 ? ConfluentFormat::kBinary : ConfluentFormat::kJson;
  return Error{ErrorCode::kSchemaNotSupported,
               "Intake has no schema registry and does not produce Avro, Protobuf or JSON Schema records; send "
               "application/vnd.kafka.json.v2+json or application/vnd.kafka.binary.v2+json"};
}

// True when some record of a v2 body has a non-null key: then the schema error is the key's.
bool body_has_keys(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::array records;
  if (root["records"].get_array().get(records) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element record : records) {
    simdjson::dom::element key;
    if (record["key"].get(key) == simdjson::SUCCESS && !key.is_null()) return true;
  }
  return false;
}

Result<std::int32_t> path_partition(const http::RouteParams& params) {
  if (params.pattern != kConfluentV2PartitionRoute) return -1;
  const std::string_view text = params[1];
  std::int32_t partition = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), partition);
  if (ec != std::errc() || end != text.data() + text.size() || partition < 0) {
    return Error{ErrorCode::kBadRequest, "the partition in the path must be a partition number (0 or more)"};
  }
  return partition;
}

http::Response render_offsets(std::span<const RecordOutcome> outcomes) {
  const RecordOutcome* first_failure = nullptr;
  std::size_t delivered = 0;
  for (const auto& outcome : outcomes) {
    if (outcome.delivered) {
      ++delivered;
    } else if (first_failure == nullptr) {
      first_failure = &outcome;
    }
  }
  if (delivered == 0 && first_failure != nullptr) {
    return confluent_error_response(first_failure->error, kConfluentV2MediaType);
  }
  http::Response response = http::json_response(200, {});
  response.content_type = kConfluentV2MediaType;
  json::Writer body(response.body);
  body.begin_object().null_field("key_schema_id").null_field("value_schema_id").begin_array("offsets");
  for (const auto& outcome : outcomes) {
    body.begin_object();
    if (outcome.delivered) {
      body.field("partition", outcome.partition).field("offset", outcome.offset).null_field("error_code");
      body.null_field("error");
    } else {
      body.null_field("partition").null_field("offset");
      body.field("error_code", confluent_record_error_code(outcome.error, outcome.retriable));
      body.field("error", outcome.error.message);
    }
    body.end_object();
  }
  body.end_array().end_object();
  return response;
}

http::Response render_v2_error(const Error& error) { return confluent_error_response(error, kConfluentV2MediaType); }

}  // namespace

http::Response ConfluentV2Handler::render_error(const Error& error) const { return render_v2_error(error); }

http::Response ConfluentV2Handler::handle(const http::Request& request, const http::RouteParams& params) {
  auto admission = gate_.admit(request, params[0]);
  if (!admission) return render_error(admission.error());
  return ProduceGate::answer(admission.value(), produce(request, params, admission.value()));
}

http::Response ConfluentV2Handler::produce(const http::Request& request, const http::RouteParams& params,
                                           const AdmittedRequest& admitted) {
  auto format = served_format(request);
  if (!format) {
    http::Response response = render_error(format.error());
    if (format.error().code == ErrorCode::kSchemaNotSupported) {
      // Confluent's codes for a schema format without its schema: 42201 keys, 42202 values.
      response.body.clear();
      json::Writer(response.body)
          .begin_object()
          .field("error_code", body_has_keys(admitted.body()) ? 42201 : 42202)
          .field("message", format.error().message)
          .field("code", error_name(format.error().code))
          .end_object();
    }
    return response;
  }
  auto partition = path_partition(params);
  if (!partition) return render_error(partition.error());
  auto decoded = decode_confluent_v2(
      admitted.body(), format.value(),
      {.batch = {.record = admitted.limit, .max_records = kMaxBatchRecords}, .path_partition = partition.value()});
  if (!decoded) return render_error(decoded.error());
  const auto& records = decoded->records;
  if (auto rate = gate_.admit_rate(admitted, records.size(), decoded->value_bytes); !rate) {
    return render_error(rate.error());
  }
  RecordHeaders headers;
  gate_.fill_headers(request, admitted, headers);
  // Always sync: the proxy's answer is the records' offsets.
  auto* delivery = BatchDelivery::start(records.size(), render_offsets);
  for (std::size_t i = 0; i < records.size(); ++i) {
    delivery->produce(gate_, i,
                      {.topic = admitted.topic,
                       .key = records[i].key,
                       .value = records[i].value,
                       .partition = records[i].partition,
                       .headers = headers.view(),
                       .listener = nullptr});
  }
  http::Response response = delivery->finish(gate_.sync_timeout_ms());
  // Kafka's silence past the sync timeout is answered by the server: in v2 form too.
  response.render_deferred_error = render_v2_error;
  return response;
}

}  // namespace intake::api
