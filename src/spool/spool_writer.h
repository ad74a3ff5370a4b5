// SpoolWriter: the appending half of the disk spool. Frames each record into the active
// segment, rotates to a new segment when one is full or sealed, and makes appends durable as
// settings.fsync asks: always = group commit (appends that arrive together share one
// fdatasync), interval = a background flusher, never = the page cache.
//
// Threads: append() and sync() from any thread. A segment is sealed only under the append
// lock, so no append lands in a segment after it was sealed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "error/result.h"
#include "kafka/record_sink.h"
#include "spool/consumer_signal.h"
#include "spool/file_ops.h"
#include "spool/segment.h"
#include "spool/segment_set.h"
#include "spool/spool_counters.h"
#include "spool/spool_options.h"
#include "spool/ticket.h"

namespace intake::spool {

class SpoolWriter {
 public:
  // kNew: a record a client is waiting for; max_bytes applies. kAccepted: one that already got
  // its 2xx (a failed delivery, a shutdown leftover); kept even past max_bytes, as refusing it
  // would lose it: only a full disk stops it.
  enum class Admission : std::uint8_t { kNew, kAccepted };

  // Adds the segments it opens to `segments`; all references must outlive the writer.
  SpoolWriter(const SpoolOptions& settings, FileOps& file_ops, SegmentSet& segments, SpoolCounters& counters,
              ConsumerSignal& signal);
  ~SpoolWriter();  // stop()
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Appends go to new segments numbered from `next_seq` on (past what recovery found); starts
  // the flusher for fsync: interval. Called once, before the first append.
  void start(std::uint32_t next_seq);
  // Stops the flusher within ~100 ms and syncs what is appended (errors are logged). Idempotent.
  void stop();

  // Appends a record (its listener and ticket are not kept). Errors: spool_full (over
  // max_bytes, or the disk is full), spool_write_failed (an I/O error; with fsync: always the
  // record may or may not be on disk).
  Result<Ticket> append(const kafka::OutgoingRecord& record, Admission admission);

  // Flushes what is appended to disk.
  Result<void> sync();

  // Seals the active segment if it holds records, nothing waits to be taken, and it was opened
  // at least `seal_after` before `now`, so that it can be deleted once its last record is done
  // (and a long-idle spool leaves no file behind). A failed sync is logged; tried again next time.
  void seal_if_caught_up(std::chrono::steady_clock::time_point now, std::chrono::milliseconds seal_after);

 private:
  Result<void> rotate_locked();
  // Syncs (unless fsync: never), then seals the active segment; a failed sync leaves it
  // unsealed. REQUIRES: append_mutex_ held.
  Result<void> seal_active_locked();
  // Makes appends up to serial `mark` durable, with one fdatasync for every append so far.
  Result<void> sync_through(std::uint64_t mark);
  void flush_loop();

  const SpoolOptions& settings_;
  FileOps& file_ops_;
  SegmentSet& segments_;
  SpoolCounters& counters_;
  ConsumerSignal& signal_;

  std::mutex append_mutex_;
  std::shared_ptr<Segment> active_;
  std::chrono::steady_clock::time_point active_opened_{};
  std::uint32_t next_seq_ = 1;
  std::string payload_;              // encode scratch, reused under append_mutex_
  std::uint64_t append_serial_ = 0;  // appends so far, for group commit

  // Group commit: appends up to synced_serial_ are on disk.
  std::mutex sync_mutex_;
  std::uint64_t synced_serial_ = 0;

  std::mutex stop_mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread flusher_;  // fsync: interval only
};

}  // namespace intake::spool
