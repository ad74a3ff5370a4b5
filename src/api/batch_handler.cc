#include "api/batch_handler.h"

#include <string>

#include "api/ndjson_decoder.h"
#include "error/error_body.h"
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

}  // namespace

http::Response BatchHandler::handle(const http::Request& request, const http::RouteParams& params) {
  auto admission = gate_.admit(request, params[0]);
  if (!admission) return http::error_response(admission.error());
  const AdmittedRequest& admitted = admission.value();
  if (admitted.mode == config::DeliveryMode::kSync) {
    return http::error_response(
        {ErrorCode::kBadRequest, "batches are async only; send records one by one to /v1/topics/" +
                                     std::string(admitted.topic) + "?sync=true for Kafka's answer per record"});
  }
  if (!request.header("X-Intake-Partition").empty() || !request.header("X-Intake-Record-Key").empty()) {
    return http::error_response({ErrorCode::kBadRequest,
                                 "a batch sets key and partition per line, not with X-Intake-Record-Key or "
                                 "X-Intake-Partition"});
  }
  // Every line is checked before any record is produced, so a bad line rejects the batch whole.
  auto decoded = decode_ndjson(request.body, {.record = admitted.limit, .max_records = kMaxBatchRecords});
  if (!decoded) return http::error_response(decoded.error());
  const auto& records = decoded->records;
  if (auto rate = gate_.admit_rate(admitted, records.size(), decoded->value_bytes); !rate) {
    return http::error_response(rate.error());
  }
  RecordHeaders headers;
  gate_.fill_headers(request, admitted, headers);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const kafka::OutgoingRecord record{.topic = admitted.topic,
                                       .key = records[i].key,
                                       .value = records[i].value,
                                       .partition = records[i].partition,
                                       .headers = headers.view(),
                                       .listener = nullptr};
    if (auto enqueued = gate_.enqueue(record); !enqueued) {
      Error error = std::move(enqueued).error();
      if (i > 0) {
        error.message +=
            "; the first " + std::to_string(i) + " records were accepted, resend from record " + std::to_string(i + 1);
      }
      return partial_batch_error(error, i);
    }
  }
  return accepted_response(records.size());
}

}  // namespace intake::api
