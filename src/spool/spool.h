// DiskSpool: the append-only disk log that keeps accepted records Kafka has not taken yet, so
// that an outage, a full queue, a shutdown or (in write-ahead mode) a crash does not lose them.
// Records leave it in the order they came in. Format: log_format.h.
//
// Threads: append() and done() from any thread. One consumer (SpoolingSink's feeder) takes
// records in order with peek()/advance() and calls maintain(). A segment is deleted only when
// it is sealed and every record in it is done.
//
// Durability (settings.fsync): always = append() returns once the record is on disk (appends
// that arrive together share one fdatasync); interval = a background flush every N ms; never =
// the page cache (survives kill -9 of the gateway, not a power loss).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "spool/spool_options.h"
#include "error/result.h"
#include "kafka/record_sink.h"
#include "spool/record_codec.h"
#include "spool/segment.h"

namespace intake::spool {

// Which spooled record: segment number << 32 | record number in it. Never 0.
using Ticket = std::uint64_t;

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
  struct Pending {
    Ticket ticket = 0;
    DecodedRecord record;
  };

  // Opens (creating) settings.dir, takes its lock file, and recovers what an earlier run left:
  // torn tails are cut off, damaged frames skipped, every record that reads back is replayed
  // (log_format.h, "Damage"); each is logged. Throws std::runtime_error (start-up only).
  explicit DiskSpool(const spool::SpoolOptions& settings);
  ~DiskSpool();  // stops the flusher within ~100 ms and syncs
  DiskSpool(const DiskSpool&) = delete;
  DiskSpool& operator=(const DiskSpool&) = delete;

  // kNew: a record a client is waiting for; max_bytes applies. kAccepted: one that already got
  // its 2xx (a failed delivery, a shutdown leftover); kept even past max_bytes, as refusing it
  // would lose it: only a full disk stops it.
  enum class Admission : std::uint8_t { kNew, kAccepted };

  // Appends a record (its listener and ticket are not kept). Errors: spool_full (over
  // max_bytes, or the disk is full), spool_write_failed (an I/O error; with fsync: always the
  // record may or may not be on disk).
  Result<Ticket> append(const kafka::OutgoingRecord& record, Admission admission = Admission::kNew);

  // Records that need nothing more (delivered, or spooled again). Idempotent.
  void done(Ticket ticket);

  // True while records wait to be handed to Kafka.
  bool has_backlog() const {
    return appended_records_.load(std::memory_order_acquire) > taken_records_.load(std::memory_order_acquire);
  }

  // Consumer only. The oldest record not yet taken (done ones are skipped). False when none
  // waits. Records whose frames no longer read back (disk corruption) are logged, counted and
  // skipped, exactly those: reading resumes at the next frame that reads back.
  bool peek(Pending& out);
  // Consumer only: the record from the last successful peek() was handed to Kafka.
  void advance();

  // Consumer only: seals the active segment once the consumer has caught up with it and it
  // is `seal_after` old, and deletes finished segments. Cheap to call often: unless `now`,
  // it works at most every 50 ms or when a segment has just finished.
  void maintain(std::chrono::milliseconds seal_after = std::chrono::milliseconds(1000), bool now = false);

  // Blocks until a record is appended, a segment finishes, wake() is called, or `timeout`.
  void wait_for_work(std::chrono::milliseconds timeout);
  // Blocks until wake() is called or `timeout` (a consumer waiting for Kafka, not for us).
  void pause(std::chrono::milliseconds timeout);
  void wake();

  // Keeps a record Kafka will never accept (e.g. too large for the broker) in
  // <dir>/rejected/, so nothing accepted vanishes; logs why.
  void quarantine(const kafka::OutgoingRecord& record, std::string_view reason);

  // Flushes what is appended to disk (for shutdown).
  Result<void> sync();

  SpoolStats stats() const;
  const spool::SpoolOptions& settings() const { return settings_; }

 private:
  static Ticket make_ticket(std::uint32_t seq, std::uint32_t ordinal) {
    return (static_cast<Ticket>(seq) << 32) | ordinal;
  }
  void recover();
  Result<void> rotate_locked();
  Result<void> sync_through(std::uint64_t mark);
  void flush_loop();
  std::shared_ptr<Segment> segment(std::uint32_t seq) const;
  // Consumer only: moves the cursor past the damage at it; false if it cannot yet (see
  // Segment::skip_damage).
  bool skip_damage(const std::shared_ptr<Segment>& segment, std::string_view why);
  void count_damage(std::uint32_t seq, const Segment::Damage& damage, std::string_view why);
  // Syncs (unless fsync: never), then seals the active segment; a failed sync leaves it
  // unsealed. REQUIRES: append_mutex_ held.
  Result<void> seal_active_locked();
  // Deletes a finished segment's files, or moves them to damaged/ if it held damage.
  void retire(Segment& segment);

  spool::SpoolOptions settings_;
  int lock_fd_ = -1;

  // Appenders: the active segment and the order of appends. A segment is sealed only under
  // this lock, so no append lands in a segment after it was sealed.
  std::mutex append_mutex_;
  std::shared_ptr<Segment> active_;
  std::chrono::steady_clock::time_point active_opened_{};
  std::uint32_t next_seq_ = 1;
  std::string payload_;            // encode scratch, reused under append_mutex_
  std::uint64_t append_serial_ = 0;  // appends so far, for group commit

  // Group commit: appends up to synced_serial_ are on disk.
  std::mutex sync_mutex_;
  std::uint64_t synced_serial_ = 0;

  // Every live segment by number (appenders add, the consumer removes, done() looks up).
  mutable std::mutex segments_mutex_;
  std::map<std::uint32_t, std::shared_ptr<Segment>> segments_;

  // Consumer cursor.
  std::shared_ptr<Segment> cursor_segment_;
  std::uint32_t cursor_seq_ = 0;       // the segment to look in next when cursor_segment_ is null
  std::uint64_t cursor_offset_ = 0;
  std::uint32_t cursor_ordinal_ = 0;
  std::uint64_t peeked_next_offset_ = 0;
  std::string read_buffer_;
  std::chrono::steady_clock::time_point next_maintenance_{};

  std::atomic<std::uint64_t> appended_records_{0};  // including those recovered at start
  std::atomic<std::uint64_t> taken_records_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> appended_since_start_{0};
  std::atomic<std::uint64_t> done_since_start_{0};
  std::atomic<std::uint64_t> recovered_{0};
  std::atomic<std::uint64_t> torn_bytes_{0};
  std::atomic<std::uint64_t> unreadable_{0};
  std::atomic<std::uint64_t> data_syncs_{0};
  std::atomic<std::uint64_t> damaged_regions_{0};
  std::atomic<std::uint64_t> damaged_bytes_{0};
  std::atomic<std::uint64_t> quarantined_{0};
  std::atomic<bool> finished_segment_{false};
  std::atomic<bool> new_records_{false};

  std::mutex work_mutex_;
  std::condition_variable work_;
  bool woken_ = false;

  std::mutex quarantine_mutex_;
  std::unique_ptr<Segment> quarantine_;

  std::atomic<bool> stopping_{false};
  std::thread flusher_;  // fsync: interval only
};

}  // namespace intake::spool
