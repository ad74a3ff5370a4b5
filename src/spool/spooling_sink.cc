#include "spool/spooling_sink.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "kafka/error_class.h"

namespace intake::spool {

using namespace std::chrono_literals;

SpoolingSink::SpoolingSink(kafka::RecordSink& kafka, DiskSpool* spool, spool::SpoolOptions::Mode mode)
    : kafka_(kafka), spool_(spool), mode_(mode) {}

SpoolingSink::~SpoolingSink() { stop_feeding(); }

void SpoolingSink::start() {
  if (spool_ != nullptr && !feeder_.joinable()) feeder_ = std::thread([this] { feed_loop(); });
}

void SpoolingSink::stop_feeding() {
  stopping_.store(true);
  if (spool_ != nullptr) spool_->wake();
  if (feeder_.joinable()) feeder_.join();
}

Result<void> SpoolingSink::spool_record(const kafka::OutgoingRecord& record) {
  // A record Kafka is known to refuse is refused now, before its 2xx: spooling it would only
  // quarantine it later.
  if (auto refused = kafka_.check(record); !refused) return refused;
  auto ticket = spool_->append(record);
  if (!ticket) return std::move(ticket).error();
  counters_.spooled.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Result<void> SpoolingSink::enqueue(const kafka::OutgoingRecord& record) {
  if (refusing_.load(std::memory_order_relaxed)) {
    return make_error(ErrorCode::kShuttingDown, "the gateway is shutting down; send the record to another instance");
  }
  // Sync requests want Kafka's own answer; without a spool there is nothing else to do.
  if (spool_ == nullptr || record.listener != nullptr) return kafka_.enqueue(record);
  if (mode_ == spool::SpoolOptions::Mode::kWriteAhead || spool_->has_backlog()) {
    // Behind what already waits in the spool, so records keep their order.
    return spool_record(record);
  }
  auto direct = kafka_.enqueue(record);
  if (direct) return direct;
  // Only "not now" goes to disk; "never" (partition_not_found, record_too_large, ...) and
  // shutting_down are the client's answer.
  const auto code = direct.error().code;
  if (code != ErrorCode::kBackpressure && code != ErrorCode::kKafkaUnavailable) return direct;
  return spool_record(record);
}

void SpoolingSink::on_delivery(const kafka::DeliveryReport& report) {
  if (report.delivered) {
    if (report.ticket != 0 && spool_ != nullptr) spool_->done(report.ticket);
    return;
  }
  if (report.record == nullptr) return;
  const kafka::OutgoingRecord& record = *report.record;
  if (spool_ == nullptr) {
    // The producer logged it; with no spool an async record that failed is gone.
    counters_.lost.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!kafka::retriable(report.reason)) {
    spool_->quarantine(record, report.error.message);
    counters_.quarantined.fetch_add(1, std::memory_order_relaxed);
    if (report.ticket != 0) spool_->done(report.ticket);
    return;
  }
  if (report.ticket != 0 && report.reason == kafka::FailureReason::kPurged) {
    // Shutdown purge: it is already on disk and not done, so the next start sends it. Any
    // run-time failure (kHandOverFailed, timed out, ...) is spooled again below, at once.
    return;
  }
  kafka::OutgoingRecord again = record;
  again.listener = nullptr;
  again.ticket = 0;
  if (auto respooled = spool_->append(again, DiskSpool::Admission::kAccepted); respooled) {
    counters_.respooled.fetch_add(1, std::memory_order_relaxed);
    if (report.ticket != 0) spool_->done(report.ticket);
    return;
  } else if (report.ticket != 0) {
    // Still on disk, not done: the next start sends it. Better late than lost.
    spdlog::error("{}; the failed record stays in its segment until the next start", respooled.error().message);
    return;
  } else {
    counters_.lost.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("{}; a record for topic '{}' that Kafka did not take is lost", respooled.error().message,
                  record.topic);
  }
}

void SpoolingSink::feed_loop() {
  // Transient refusals back off (doubling, reset by the next success); a permanent one is
  // quarantined at once so the records behind it move on.
  constexpr auto kFirstBackoff = 100ms;
  constexpr auto kMaxBackoff = 2000ms;
  auto backoff = kFirstBackoff;
  DiskSpool::Pending pending;
  while (!stopping_.load()) {
    spool_->maintain();
    if (!spool_->has_backlog()) {
      spool_->wait_for_work(100ms);
      continue;
    }
    if (!kafka_.ready()) {
      spool_->pause(100ms);
      continue;
    }
    if (!spool_->peek(pending)) {
      spool_->wait_for_work(100ms);
      continue;
    }
    kafka::OutgoingRecord record = pending.record.outgoing();
    record.ticket = pending.ticket;
    auto produced = kafka_.enqueue(record);
    if (produced) {
      spool_->advance();
      counters_.replayed.fetch_add(1, std::memory_order_relaxed);
      backoff = kFirstBackoff;
      continue;
    }
    const auto code = produced.error().code;
    if (code == ErrorCode::kShuttingDown) return;
    if (code == ErrorCode::kBackpressure) {
      spool_->pause(5ms);  // the queue drains at Kafka's pace
      continue;
    }
    if (kafka::transient_code(code)) {
      spool_->pause(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    // Kafka refuses this record as it is (no such partition, too large, ...): keep it aside.
    spool_->quarantine(record, produced.error().message);
    counters_.quarantined.fetch_add(1, std::memory_order_relaxed);
    spool_->advance();
    spool_->done(pending.ticket);
  }
}

}  // namespace intake::spool
