#include "api/batch_delivery.h"

#include <utility>

#include "api/produce_gate.h"

namespace intake::api {

BatchDelivery* BatchDelivery::start(std::size_t records, BatchRenderer render) {
  return new BatchDelivery(records, std::move(render));  // deletes itself (release())
}

BatchDelivery::BatchDelivery(std::size_t records, BatchRenderer render)
    : outcomes_(records), slots_(records), render_(std::move(render)), outstanding_(records + 1) {
  for (std::size_t i = 0; i < records; ++i) {
    slots_[i].owner = this;
    slots_[i].index = i;
  }
}

void BatchDelivery::Slot::on_delivery(const kafka::DeliveryReport& report) {
  RecordOutcome outcome;
  outcome.delivered = report.delivered;
  outcome.partition = report.partition;
  outcome.offset = report.offset;
  outcome.timestamp_ms = report.timestamp_ms;
  if (!report.delivered) {
    outcome.error = report.error;
    outcome.retriable = kafka::retriable(report.reason);
  }
  owner->record_outcome(index, std::move(outcome));
}

void BatchDelivery::produce(ProduceGate& gate, std::size_t index, kafka::OutgoingRecord record) {
  record.listener = &slots_[index];
  if (auto enqueued = gate.enqueue(record); !enqueued) {
    // The sink did not take it, so no report will come: the refusal is its outcome.
    Error error = std::move(enqueued).error();
    const bool retriable = error.code == ErrorCode::kBackpressure || error.code == ErrorCode::kKafkaUnavailable ||
                           error.code == ErrorCode::kShuttingDown;
    record_outcome(index, RecordOutcome{.error = std::move(error), .retriable = retriable});
  }
}

void BatchDelivery::record_outcome(std::size_t index, RecordOutcome outcome) {
  outcomes_[index] = std::move(outcome);
  release();
}

void BatchDelivery::release() {
  // acq_rel: the last releaser sees every outcome the others wrote. finish() holds one count
  // until pending_ is set, so the last report always has somewhere to put the answer.
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  auto pending = std::move(pending_);
  pending->complete(render_(outcomes_));
  delete this;
}

http::Response BatchDelivery::finish(std::uint32_t timeout_ms) {
  auto pending = std::make_shared<http::DeferredResponse>();
  pending_ = pending;
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Every outcome was known at hand-over (or came back already): answer now.
    http::Response response = render_(outcomes_);
    delete this;
    return response;
  }
  http::Response response;
  response.deferred = std::move(pending);
  response.deferred_timeout_ms = timeout_ms;
  return response;
}

}  // namespace intake::api
