// DiskSpool: the append-only disk log that keeps accepted records Kafka has not taken yet, so
// that an outage, a full queue, a shutdown or (in write-ahead mode) a crash does not lose them.
// Records leave it in the order they came in. Format: log_format.h.
//
// It composes a SpoolWriter (appends, group commit, segment rotation), a SpoolReader (recovery,
// the consumer's cursor, acks, damage) and a Quarantine (rejected/), which share the live
// segments (SegmentSet), the counters (SpoolCounters) and the consumer's wake-ups.
//
// Threads: append() and done() from any thread. One consumer (SpoolingSink's feeder) takes
// records in order with peek()/advance() and calls maintain(). A segment is deleted only when
// it is sealed and every record in it is done.
//
// Durability (settings.fsync): always = append() returns once the record is on disk (appends
// that arrive together share one fdatasync); interval = a background flush every N ms; never =
// the page cache (survives kill -9 of the gateway, not a power loss).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "error/result.h"
#include "kafka/record_sink.h"
#include "spool/consumer_signal.h"
#include "spool/file_ops.h"
#include "spool/quarantine.h"
#include "spool/segment_set.h"
#include "spool/spool_counters.h"
#include "spool/spool_options.h"
#include "spool/spool_reader.h"
#include "spool/spool_writer.h"
#include "spool/ticket.h"

namespace intake::spool {

struct SpoolStats {
  std::uint64_t bytes = 0;            // on disk now, in segments
  std::uint64_t waiting_records = 0;  // appended and not yet handed to Kafka
  std::uint64_t segments = 0;
  std::uint64_t appended = 0;         // since start
  std::uint64_t done = 0;             // since start: delivered, or spooled again
  std::uint64_t recovered = 0;        // records found at start that still needed delivery
  std::uint64_t torn_bytes = 0;       // cut off torn tails at start (a copy is kept in damaged/)
  std::uint64_t unreadable = 0;       // records skipped because they no longer read back, each
                                      // counted once (skipping marks it done), at start or live
  std::uint64_t damaged_regions = 0;  // since start: stretches of segments that do not read back
  std::uint64_t damaged_bytes = 0;    // their bytes (kept on disk; see "Damage" in log_format.h)
  std::uint64_t quarantined = 0;      // records Kafka will never take, kept in rejected/
  std::uint64_t data_syncs = 0;       // since start: fdatasync calls that made appended records durable
};

class DiskSpool {
 public:
  // A record the consumer should produce next. `record` views live until the next peek().
  using Pending = SpoolReader::Pending;
  // kNew: a record a client is waiting for; max_bytes applies. kAccepted: one that already got
  // its 2xx; kept even past max_bytes (see SpoolWriter::Admission).
  using Admission = SpoolWriter::Admission;

  // Opens (creating) settings.dir, takes its lock file, and recovers what an earlier run left:
  // torn tails are cut off, damaged frames skipped, every record that reads back is replayed
  // (log_format.h, "Damage"); each is logged. Throws std::runtime_error (start-up only).
  // Every file operation goes through `file_ops` (the operating system's unless a test
  // injects faults), which must outlive the spool.
  explicit DiskSpool(const spool::SpoolOptions& settings, FileOps& file_ops = posix_file_ops());
  ~DiskSpool();  // stops the flusher within ~100 ms and syncs
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  // Appends a record (its listener and ticket are not kept). Errors: spool_full (over
  // max_bytes, or the disk is full), spool_write_failed (an I/O error; with fsync: always the
  // record may or may not be on disk).
  Result<Ticket> append(const kafka::OutgoingRecord& record, Admission admission = Admission::kNew) {
    return writer_.append(record, admission);
  }

  // Records that need nothing more (delivered, or spooled again). Idempotent.
  void done(Ticket ticket) { reader_.done(ticket); }

  // True while records wait to be handed to Kafka.
  bool has_backlog() const { return counters_.has_backlog(); }

  // Consumer only. The oldest record not yet taken (done ones are skipped). False when none
  // waits. Records whose frames no longer read back (disk corruption) are logged, counted and
  // skipped, exactly those: reading resumes at the next frame that reads back.
  bool peek(Pending& out) { return reader_.peek(out); }
  // Consumer only: the record from the last successful peek() was handed to Kafka.
  void advance() { reader_.advance(); }

  // Consumer only: seals the active segment once the consumer has caught up with it and it
  // is `seal_after` old, and deletes finished segments. Cheap to call often: unless `now`,
  // it works at most every 50 ms or when a segment has just finished.
  void maintain(std::chrono::milliseconds seal_after = std::chrono::milliseconds(1000), bool now = false);

  // Blocks until a record is appended, a segment finishes, wake() is called, or `timeout`.
  void wait_for_work(std::chrono::milliseconds timeout) { signal_.wait_for_work(timeout); }
  // Blocks until wake() is called or `timeout` (a consumer waiting for Kafka, not for us).
  void pause(std::chrono::milliseconds timeout) { signal_.pause(timeout); }
  void wake() { signal_.wake(); }

  // Keeps a record Kafka will never accept (e.g. too large for the broker) in
  // <dir>/rejected/, so nothing accepted vanishes; logs why.
  void quarantine(const kafka::OutgoingRecord& record, std::string_view reason) { quarantine_.keep(record, reason); }

  // Flushes what is appended to disk (for shutdown).
  Result<void> sync() { return writer_.sync(); }

  SpoolStats stats() const;
  const spool::SpoolOptions& settings() const { return settings_; }

 private:
  // The directory's LOCK file, held for the spool's lifetime (released last).
  struct DirectoryLock {
    DirectoryLock(FileOps& file_ops, const std::string& dir);  // throws if another process holds it
    ~DirectoryLock();
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;
    FileOps& file_ops;
    int fd = -1;
  };

  spool::SpoolOptions settings_;
  DirectoryLock lock_;
  SpoolCounters counters_;
  SegmentSet segments_;
  ConsumerSignal signal_;
  SpoolReader reader_;
  SpoolWriter writer_;
  Quarantine quarantine_;
  std::chrono::steady_clock::time_point next_maintenance_{};  // consumer only
};

}  // namespace intake::spool
