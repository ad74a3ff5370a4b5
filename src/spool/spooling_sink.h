// SpoolingSink: the RecordSink the request path writes to. It decides, record by record,
// whether Kafka takes it now or the disk spool keeps it; feeds spooled records to Kafka in the
// order they came once Kafka can take them; and routes every async outcome back: a delivered
// spooled record is marked done, a failed one is spooled again (or quarantined when Kafka will
// never take it), so no record that got a 2xx is dropped while a spool is configured.
//
//   sync records (listener set)   → Kafka directly; the client waits for Kafka's answer
//   async, mode fallback          → Kafka directly while nothing waits in the spool and Kafka
//                                   takes it; else the spool (503/429 become 202)
//   async, mode write_ahead       → always the spool first, then Kafka from the spool
//
// Without a spool it passes records straight to Kafka and only counts async losses.
//
// Threads: enqueue() from any thread; on_delivery() from producer threads; one feeder thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "kafka/record_sink.h"
#include "spool/disk_spool.h"
#include "spool/spool_options.h"

namespace intake::spool {

struct SinkCounters {
  std::atomic<std::uint64_t> spooled{0};      // async records the spool took instead of Kafka
  std::atomic<std::uint64_t> replayed{0};     // spooled records handed to Kafka
  std::atomic<std::uint64_t> respooled{0};    // failed deliveries spooled again
  std::atomic<std::uint64_t> quarantined{0};  // records Kafka will never take, kept on disk
  std::atomic<std::uint64_t> lost{0};         // accepted async records neither delivered nor kept
};

class SpoolingSink final : public kafka::RecordSink, public kafka::DeliveryListener {
 public:
  // `kafka` must outlive this; `spool` may be null (no spool) and must outlive this too.
  SpoolingSink(kafka::RecordSink& kafka, DiskSpool* spool, spool::SpoolOptions::Mode mode);
  ~SpoolingSink() override;
  SpoolingSink(const SpoolingSink&) = delete;
  SpoolingSink& operator=(const SpoolingSink&) = delete;

  // Starts the feeder thread (no-op without a spool).
  void start();
  // Stops the feeder within ~100 ms; spooled records not handed over yet stay on disk.
  void stop_feeding();

  // Drain: from now on enqueue() answers 503 shutting_down, so a client that sends while the
  // gateway drains is told to go elsewhere instead of extending the drain. Idempotent.
  void stop_accepting() { refusing_.store(true, std::memory_order_relaxed); }

  Result<void> enqueue(const kafka::OutgoingRecord& record) override;
  bool ready() const override { return kafka_.ready(); }

  // Async outcomes from the producer (KafkaProducer::set_async_listener).
  void on_delivery(const kafka::DeliveryReport& report) override;

  const SinkCounters& counters() const { return counters_; }
  const DiskSpool* spool() const { return spool_; }

 private:
  Result<void> spool_record(const kafka::OutgoingRecord& record);
  void feed_loop();

  kafka::RecordSink& kafka_;
  DiskSpool* spool_;
  spool::SpoolOptions::Mode mode_;
  SinkCounters counters_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_{false};
  std::thread feeder_;
};

}  // namespace intake::spool
