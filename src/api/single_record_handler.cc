#include "api/single_record_handler.h"

#include <charconv>
#include <cstdint>

namespace intake::api {
namespace {

// `X-Intake-Partition: N`, or -1.
Result<std::int32_t> requested_partition(const http::Request& request) {
  const std::string_view text = request.header("X-Intake-Partition");
  if (text.empty()) return -1;
  std::int32_t partition = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), partition);
  if (ec != std::errc() || end != text.data() + text.size() || partition < 0) {
    return Error{ErrorCode::kBadRequest, "X-Intake-Partition must be a partition number (0 or more)"};
  }
  return partition;
}

}  // namespace

http::Response SingleRecordHandler::handle(const http::Request& request, const http::RouteParams& params) {
  auto admission = gate_.admit(request, params[0]);
  if (!admission) return http::error_response(admission.error());
  return ProduceGate::answer(admission.value(), produce(request, admission.value()));
}

http::Response SingleRecordHandler::produce(const http::Request& request, const AdmittedRequest& admitted) {
  if (auto fits = admitted.limit.check(admitted.body().size()); !fits) return http::error_response(fits.error());
  auto partition = requested_partition(request);
  if (!partition) return http::error_response(partition.error());
  if (auto rate = gate_.admit_rate(admitted, 1, admitted.body().size()); !rate) {
    return http::error_response(rate.error());
  }
  RecordHeaders headers;
  gate_.fill_headers(request, admitted, headers);
  const kafka::OutgoingRecord record{.topic = admitted.topic,
                                     .key = request.header("X-Intake-Record-Key"),
                                     .value = admitted.body(),
                                     .partition = partition.value(),
                                     .headers = headers.view(),
                                     .listener = nullptr};
  if (admitted.mode == config::DeliveryMode::kSync) return gate_.produce_and_wait(record);
  if (auto enqueued = gate_.enqueue(record); !enqueued) return http::error_response(enqueued.error());
  return accepted_response(1);
}

}  // namespace intake::api
