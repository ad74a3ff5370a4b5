// SpoolReader: the reading half of the disk spool. At start-up it recovers what an earlier run
// left (torn tails cut off, damaged frames skipped, every record that reads back replayed; see
// "Damage" in log_format.h). Then it is the consumer's cursor: it hands out records in the
// order they were appended, skips those already done and those that no longer read back,
// takes acks (done()), and retires finished segments (deleted, or moved to damaged/ if they
// held damage).
//
// Threads: done() from any thread; everything else from the one consumer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "spool/consumer_signal.h"
#include "spool/file_ops.h"
#include "spool/record_codec.h"
#include "spool/segment.h"
#include "spool/segment_set.h"
#include "spool/spool_counters.h"
#include "spool/spool_options.h"
#include "spool/ticket.h"

namespace intake::spool {

class SpoolReader {
 public:
  // A record the consumer should produce next. `record` views live until the next peek().
  struct Pending {
    Ticket ticket = 0;
    DecodedRecord record;
  };

  // All references must outlive the reader.
  SpoolReader(const SpoolOptions& settings, FileOps& file_ops, SegmentSet& segments, SpoolCounters& counters,
              ConsumerSignal& signal);
  SpoolReader(const SpoolReader&) = delete;
  SpoolReader& operator=(const SpoolReader&) = delete;

  // Start-up only: recovers every segment in settings.dir into `segments` (each damage found
  // is logged and counted) and puts the cursor at the oldest. Returns the number the next new
  // segment gets. Throws std::runtime_error when a segment cannot be opened.
  std::uint32_t recover();

  // The oldest record not yet taken (done ones are skipped). False when none waits. Records
  // whose frames no longer read back (disk corruption) are logged, counted and skipped,
  // exactly those: reading resumes at the next frame that reads back.
  bool peek(Pending& out);
  // The record from the last successful peek() was handed to Kafka.
  void advance();

  // Any thread: the record needs nothing more (delivered, or spooled again). Idempotent.
  void done(Ticket ticket);

  // Removes finished segments from the set and deletes their files (or moves them to
  // damaged/); moves the cursor past one it was in.
  void retire_finished();

  // Drops the cursor's hold on its segment (for shutdown).
  void release() { cursor_segment_.reset(); }

 private:
  // Moves the cursor past the damage at it; false if it cannot yet (see Segment::skip_damage).
  bool skip_damage(const std::shared_ptr<Segment>& segment, std::string_view why);
  void count_damage(std::uint32_t seq, const Segment::Damage& damage, std::string_view why);
  // Deletes a finished segment's files, or moves them to damaged/ if it held damage.
  void retire(Segment& segment);

  const SpoolOptions& settings_;
  FileOps& file_ops_;
  SegmentSet& segments_;
  SpoolCounters& counters_;
  ConsumerSignal& signal_;

  std::shared_ptr<Segment> cursor_segment_;
  std::uint32_t cursor_seq_ = 0;  // the segment to look in next when cursor_segment_ is null
  std::uint64_t cursor_offset_ = 0;
  std::uint32_t cursor_ordinal_ = 0;
  std::uint64_t peeked_next_offset_ = 0;
  std::string read_buffer_;
};

}  // namespace intake::spool
