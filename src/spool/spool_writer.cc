#include "spool/spool_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "spool/log_format.h"
#include "spool/record_codec.h"

namespace intake::spool {

using Fsync = SpoolOptions::Fsync;

SpoolWriter::SpoolWriter(const SpoolOptions& settings, FileOps& file_ops, SegmentSet& segments, SpoolCounters& counters,
                         ConsumerSignal& signal)
    : settings_(settings), file_ops_(file_ops), segments_(segments), counters_(counters), signal_(signal) {}

SpoolWriter::~SpoolWriter() { stop(); }

void SpoolWriter::start(std::uint32_t next_seq) {
  next_seq_ = next_seq;
  if (settings_.fsync == Fsync::kInterval) flusher_ = std::thread([this] { flush_loop(); });
}

void SpoolWriter::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (auto synced = sync(); !synced) spdlog::error("{}", synced.error().message);
}

Result<void> SpoolWriter::seal_active_locked() {
  if (!active_ || active_->sealed()) return {};
  // Synced before sealed: sync_through() counts on sealed segments being on disk.
  if (settings_.fsync != Fsync::kNever) {
    if (auto synced = active_->sync(); !synced) return synced.error();
    counters_.data_syncs.fetch_add(1, std::memory_order_relaxed);
  }
  active_->seal();
  return {};
}

Result<void> SpoolWriter::rotate_locked() {
  if (auto sealed = seal_active_locked(); !sealed) return sealed.error();
  auto created = Segment::create(settings_.dir, next_seq_, settings_.fsync != Fsync::kNever, file_ops_);
  if (!created) return created.error();
  ++next_seq_;
  active_ = std::shared_ptr<Segment>(std::move(created).value());
  active_opened_ = std::chrono::steady_clock::now();
  counters_.bytes.fetch_add(active_->committed_bytes());
  segments_.add(active_);
  return {};
}

Result<Ticket> SpoolWriter::append(const kafka::OutgoingRecord& record, Admission admission) {
  Ticket ticket = 0;
  std::uint64_t serial = 0;
  {
    std::lock_guard lock(append_mutex_);
    const std::uint64_t frame_bytes = kFrameHeaderBytes + encoded_size(record);
    const std::uint64_t in_use = counters_.bytes.load();
    if (admission == Admission::kNew && in_use + frame_bytes > settings_.max_bytes) {
      return Error{ErrorCode::kSpoolFull,
                   "the gateway's disk spool is full (" + std::to_string(in_use) + " of " +
                       std::to_string(settings_.max_bytes) +
                       " bytes; Kafka has not taken the records for a while); the record was not accepted, retry "
                       "later",
                   5};
    }
    if (!active_ || active_->sealed() || active_->full(settings_.segment_bytes)) {
      if (auto rotated = rotate_locked(); !rotated) return rotated.error();
    }
    payload_.clear();
    encode(record, payload_);
    auto ordinal = active_->append(payload_);
    if (!ordinal) return ordinal.error();
    if (payload_.capacity() > 4u * 1024 * 1024) payload_ = std::string();
    ticket = make_ticket(active_->seq(), ordinal.value());
    counters_.bytes.fetch_add(frame_bytes);
    counters_.appended_records.fetch_add(1, std::memory_order_release);
    counters_.appended_since_start.fetch_add(1, std::memory_order_relaxed);
    serial = ++append_serial_;
  }
  if (settings_.fsync == Fsync::kAlways) {
    if (auto synced = sync_through(serial); !synced) return synced.error();
  }
  signal_.records_appended();
  return ticket;
}

Result<void> SpoolWriter::sync_through(std::uint64_t mark) {
  std::lock_guard sync_lock(sync_mutex_);
  if (synced_serial_ >= mark) return {};  // another appender's fdatasync covered this record
  std::shared_ptr<Segment> segment;
  std::uint64_t target = 0;
  {
    std::lock_guard lock(append_mutex_);
    segment = active_;
    target = append_serial_;
  }
  // Segments sealed since were synced when they were sealed; only the active one is left.
  if (segment) {
    if (auto synced = segment->sync(); !synced) return synced.error();
    counters_.data_syncs.fetch_add(1, std::memory_order_relaxed);
  }
  synced_serial_ = target;
  return {};
}

Result<void> SpoolWriter::sync() {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(append_mutex_);
    target = append_serial_;
  }
  return sync_through(target);
}

void SpoolWriter::flush_loop() {
  const auto interval = std::chrono::milliseconds(std::max<std::uint32_t>(settings_.fsync_interval_ms, 1));
  for (;;) {
    {
      std::unique_lock lock(stop_mutex_);
      if (stop_.wait_for(lock, interval, [this] { return stopping_; })) return;
    }
    if (auto synced = sync(); !synced) spdlog::error("{}", synced.error().message);
  }
}

void SpoolWriter::seal_if_caught_up(std::chrono::steady_clock::time_point now, std::chrono::milliseconds seal_after) {
  std::lock_guard lock(append_mutex_);
  if (!active_ || active_->sealed() || active_->records() == 0 || counters_.has_backlog() ||
      now - active_opened_ < seal_after) {
    return;
  }
  if (auto sealed = seal_active_locked(); sealed) {
    active_.reset();
  } else {
    spdlog::error("{}", sealed.error().message);  // tried again at the next maintenance
  }
}

}  // namespace intake::spool
