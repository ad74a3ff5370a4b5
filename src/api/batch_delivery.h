// Sync batches: every record of a request is produced with its own delivery listener, and
// the answer is rendered once Kafka has spoken for the last one, from each record's outcome
// in body order. A refusal at hand-over (backpressure, a partition that does not exist) is that
// record's outcome too: a record Kafka refuses does not take its neighbours down with it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "error/error.h"
#include "http/message.h"
#include "kafka/record_sink.h"

namespace intake::api {

class ProduceGate;

// What became of one record of a sync batch.
struct RecordOutcome {
  bool delivered = false;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = -1;  // when delivered: Kafka's timestamp, -1 when it did not say
  Error error;                     // when !delivered
  bool retriable = false;          // when !delivered: the same record can succeed later
};

// Turns the outcomes, in body order, into the route's answer. Runs once, on whichever thread
// learns the last outcome (a producer thread or the connection's).
using BatchRenderer = std::function<http::Response(std::span<const RecordOutcome>)>;

class BatchDelivery {
 public:
  // The caller produces records [0, records) with produce(), each once, then calls finish()
  // exactly once; the object deletes itself after the last outcome is in and finish() ran.
  static BatchDelivery* start(std::size_t records, BatchRenderer render);

  // Hands record `index` to the gate with this batch's listener for it. REQUIRES:
  // record.listener == nullptr; its views need only live for the call.
  void produce(ProduceGate& gate, std::size_t index, kafka::OutgoingRecord record);

  // The answer: rendered at once when every outcome is known, else deferred until the last is
  // (the server answers 504 after `timeout_ms`). The object must not be used afterwards.
  http::Response finish(std::uint32_t timeout_ms);

 private:
  class Slot final : public kafka::DeliveryListener {
   public:
    void on_delivery(const kafka::DeliveryReport& report) override;
    BatchDelivery* owner = nullptr;
    std::size_t index = 0;
  };

  BatchDelivery(std::size_t records, BatchRenderer render);
  void record_outcome(std::size_t index, RecordOutcome outcome);
  // Drops one outstanding count; the last renders into the deferred response and deletes.
  void release();

  std::vector<RecordOutcome> outcomes_;
  std::vector<Slot> slots_;
  BatchRenderer render_;
  // One per record not yet reported, plus one held until finish() returns.
  std::atomic<std::size_t> outstanding_;
  std::shared_ptr<http::DeferredResponse> pending_;  // set by finish() before it releases
};

}  // namespace intake::api
