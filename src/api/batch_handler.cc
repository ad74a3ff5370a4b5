#include "api/batch_handler.h"

#include <span>
#include <string>
#include <vector>

#include "api/batch_decoder.h"
#include "api/batch_delivery.h"
#include "error/error_body.h"
#include "http/media_type.h"
#include "json/writer.h"

namespace intake::api {
namespace {

// A refusal after some records of a batch were accepted: the error plus how many were.
http::Response partial_batch_error(const Error& error, std::size_t accepted) {
  auto response = http::error_response(error);  // status and Retry-After as for any error
  // The body again with the count beside the error, in the buffer error_response reserved.
  response.body.clear();
  json::Writer body(response.body);
  body.begin_object();
  write_error_member(body, error);
  body.field("accepted", accepted).end_object();
  return response;
}

// A sync batch's answer: each record's partition and offset or error, in body order. 200 when
// Kafka took every record, 207 when it took some, else the first error's status (and its
// Retry-After), with that error as the body's "error" so a client reading only that sees why.
http::Response render_sync_batch(std::span<const RecordOutcome> outcomes) {
  std::size_t delivered = 0;
  const Error* first_error = nullptr;
  for (const auto& outcome : outcomes) {
    if (outcome.delivered) {
      ++delivered;
    } else if (first_error == nullptr) {
      first_error = &outcome.error;
    }
  }
  http::Response response;
  if (first_error != nullptr && delivered == 0) {
    response = http::error_response(*first_error);  // status and Retry-After as for any error
    response.body.clear();
  } else {
    response = http::json_response(first_error == nullptr ? 200 : 207, {});
  }
  json::Writer body(response.body);
  body.begin_object();
  if (first_error != nullptr && delivered == 0) write_error_member(body, *first_error);
  body.field("delivered", delivered).field("failed", outcomes.size() - delivered).begin_array("records");
  for (const auto& outcome : outcomes) {
    body.begin_object();
    if (outcome.delivered) {
      body.field("partition", outcome.partition).field("offset", outcome.offset);
    } else {
      write_error_member(body, outcome.error);
    }
    body.end_object();
  }
  body.end_array().end_object();
  return response;
}

}  // namespace

http::Response BatchHandler::handle(const http::Request& request, const http::RouteParams& params) {
  auto format = http::match_media_type(request.header("Content-Type"),
                                       {"application/x-ndjson", "application/ndjson", "application/jsonl",
                                        "application/x-jsonlines", "application/json", "text/plain",
                                        // What curl --data-binary sends unless told otherwise.
                                        "application/x-www-form-urlencoded"},
                                       0);
  if (!format) return http::error_response(format.error());
  auto admission = gate_.admit(request, params[0]);
  if (!admission) return http::error_response(admission.error());
  return ProduceGate::answer(admission.value(), produce(request, admission.value()));
}

http::Response BatchHandler::produce(const http::Request& request, AdmittedRequest& admitted) {
  if (!request.header("X-Intake-Partition").empty() || !request.header("X-Intake-Record-Key").empty()) {
    return http::error_response({ErrorCode::kBadRequest,
                                 "a batch sets key and partition per record, not with X-Intake-Record-Key or "
                                 "X-Intake-Partition"});
  }
  // Every record is checked before any is produced, so a bad one rejects the batch whole.
  auto decoded = decode_batch(admitted.body(), {.record = admitted.limit, .max_records = kMaxBatchRecords});
  if (!decoded) return http::error_response(decoded.error());
  const auto& records = decoded->records;
  if (auto rate = gate_.admit_rate(admitted, records.size(), decoded->value_bytes); !rate) {
    return http::error_response(rate.error());
  }
  RecordHeaders headers;
  gate_.fill_headers(request, admitted, headers);
  std::vector<kafka::RecordHeader> record_headers;
  const auto outgoing = [&](const DecodedRecord& record) {
    return kafka::OutgoingRecord{.topic = admitted.topic,
                                 .key = record.key,
                                 .value = record.value,
                                 .partition = record.partition,
                                 .headers = with_record_headers(headers, record.headers, record_headers),
                                 .listener = nullptr};
  };
  if (admitted.mode == config::DeliveryMode::kSync) {
    auto* delivery = BatchDelivery::start(records.size(), render_sync_batch);
    for (std::size_t i = 0; i < records.size(); ++i) delivery->produce(gate_, i, outgoing(records[i]));
    return delivery->finish(gate_.sync_timeout_ms());
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (auto enqueued = gate_.enqueue(outgoing(records[i])); !enqueued) {
      Error error = std::move(enqueued).error();
      if (i > 0) {
        // Records were taken: a replay of this request would produce them again.
        admitted.replay.commit();
        error.message +=
            "; the first " + std::to_string(i) + " records were accepted, resend from record " + std::to_string(i + 1);
      }
      return partial_batch_error(error, i);
    }
  }
  return accepted_response(records.size());
}

}  // namespace intake::api
