// Segment: one numbered pair of spool files (<seq>.log and <seq>.acks, see log_format.h).
//
// Appends come from one writer at a time (the spool's append lock); reads, acks and counters
// are safe from any thread. Errors are values; only I/O failures produce them (every file
// operation goes through FileOps, file_ops.h). Bytes that do not read back are skipped, never
// deleted: see "Damage" in log_format.h.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/result.h"
#include "spool/file_ops.h"

namespace intake::spool {

class Segment {
 public:
  // Bytes in a segment that do not read back, with a frame that does (or the end of a sealed
  // segment) after them. The records whose frames they held are lost; the bytes stay on disk.
  struct Damage {
    std::uint64_t offset = 0;        // where the damaged bytes start
    std::uint64_t bytes = 0;         // how many; reading resumes at offset + bytes
    std::uint32_t first_record = 0;  // the records in them: [first_record, first_record + records)
    std::uint32_t records = 0;       // 0 with records_known false: format 1 could not tell
    bool records_known = true;
    std::uint32_t undelivered = 0;  // of those records, how many were not done yet (now they are)
  };

  // What recovery found in an existing segment.
  struct Recovered {
    std::unique_ptr<Segment> segment;  // null iff the file is not a segment (see set_aside_to)
    std::uint8_t format = 0;           // 1 or 2 (log_format.h)
    std::uint64_t torn_bytes = 0;      // bytes after the last frame that reads back, cut off
    std::uint64_t torn_offset = 0;     // where they started
    std::string torn_copy;             // where they were kept; "" if they could not be copied
    std::vector<Damage> damage;        // mid-segment damage, in file order
    bool acks_cleared = false;         // the ack bits were distrusted and cleared (log_format.h)
    std::string acks_copy;             // where the distrusted file went ("" if it stayed in place)
    std::string set_aside_to;          // a file without a magic this version reads, moved here
  };

  // A new, empty segment (files created; the directory synced when `sync_dir`). Every file
  // operation of the segment goes through `ops`, which must outlive it.
  static Result<std::unique_ptr<Segment>> create(const std::string& dir, std::uint32_t seq, bool sync_dir,
                                                 FileOps& ops = posix_file_ops());
  // Opens a segment left by an earlier run: checks every frame, skips damaged ones (their
  // records are marked done), cuts a torn tail off (keeping a copy under damaged/). A file
  // whose magic this version does not know is moved to damaged/ whole (segment null). The
  // result is sealed (never appended to again).
  static Result<Recovered> recover(const std::string& dir, std::uint32_t seq, FileOps& ops = posix_file_ops());

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  std::uint32_t seq() const { return seq_; }
  std::uint8_t format() const { return format_; }

  // Appends one framed record; returns its number. On failure the file is cut back to where
  // it was, so a failed append leaves no partial record behind.
  // REQUIRES: external synchronization among appenders; !sealed().
  Result<std::uint32_t> append(std::string_view payload);

  // Reads the record whose frame starts at `offset` into `buffer`; returns the payload view,
  // sets `next_offset` and, for format 2 (format-1 frames carry none), `*record` to the
  // record number in the frame. Fails iff the frame does not read back (see skip_damage()).
  // REQUIRES: offset < committed_bytes(), at a frame boundary.
  Result<std::string_view> read(std::uint64_t offset, std::string& buffer, std::uint64_t& next_offset,
                                std::uint32_t* record = nullptr) const;

  // The frame of record `ordinal` at `offset` did not read back, or carries a later record
  // number (records went missing). Returns the damaged bytes from `offset` up to the next frame
  // that reads back (or to committed_bytes() of a sealed segment; no bytes if only records are
  // missing) and marks their records done. nullopt while the segment is still written to and
  // no frame that reads back follows the damage: call again after more appends (the search
  // resumes where it stopped). `*known` is set true iff recovery or an earlier call already
  // reported this stretch. REQUIRES: one caller at a time (the spool's consumer).
  std::optional<Damage> skip_damage(std::uint64_t offset, std::uint32_t ordinal, bool* known);

  // Bytes of whole records (with the magic); readers never look past this.
  std::uint64_t committed_bytes() const { return committed_bytes_.load(std::memory_order_acquire); }
  std::uint32_t records() const { return records_.load(std::memory_order_acquire); }
  std::uint32_t done_records() const { return done_.load(std::memory_order_acquire); }
  bool full(std::uint64_t max_bytes) const;

  // Marks record `ordinal` as needing nothing more. Returns true iff it was not marked yet.
  bool mark_done(std::uint32_t ordinal);
  bool is_done(std::uint32_t ordinal) const;

  // No append follows. REQUIRES: the appenders' lock (the one append() runs under), so that
  // an append cannot land after the seal; a reader that sees sealed() then sees every record.
  void seal() { sealed_.store(true, std::memory_order_release); }
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }
  // Sealed and every record done: the files may go (remove_files(), or set_aside() if damaged()).
  bool finished() const { return sealed() && done_records() == records(); }
  // True iff bytes of this segment did not read back (found by recovery or skip_damage()).
  bool damaged() const { return damaged_.load(std::memory_order_acquire); }

  // fdatasync of the log (the acks are advisory: losing them replays, never loses, a record).
  Result<void> sync();
  // Deletes both files. The object stays usable for reads until destroyed.
  void remove_files();
  // Moves both files to <dir>/damaged/ for inspection; returns where the log went.
  Result<std::string> set_aside();

  static std::string log_path(const std::string& dir, std::uint32_t seq);
  // The segment number a file name ("0000000042.log") stands for; 0 if it is no segment's log.
  static std::uint32_t seq_of(std::string_view file_name);
  static std::string acks_path(const std::string& dir, std::uint32_t seq);

 private:
  Segment(FileOps& ops, std::string dir, std::uint32_t seq, std::uint8_t format, int log_fd, int acks_fd,
          std::uint8_t* acks);
  static Result<std::uint8_t*> map_acks(FileOps& ops, int acks_fd, const std::string& path);
  // Walks a recovered file's frames (format 2 / format 1), filling records, damage, torn tail.
  void recover_frames(std::uint64_t file_bytes, Recovered& out);
  void recover_frames_v1(std::uint64_t file_bytes, Recovered& out);
  // Clears every ack bit if the file does not read or has a bit set for a record number
  // >= `could_exist` (log_format.h). Returns true iff the caller must still clear the mapping.
  bool check_acks(std::uint32_t could_exist, Recovered& out);
  std::optional<Damage> find_damage_end(std::uint64_t offset, std::uint32_t ordinal);

  FileOps& ops_;
  std::string dir_;
  std::uint32_t seq_;
  std::uint8_t format_;
  int log_fd_ = -1;
  int acks_fd_ = -1;
  std::uint8_t* acks_ = nullptr;  // kAckFileBytes, MAP_SHARED
  std::string frame_;             // append scratch, reused
  std::atomic<std::uint64_t> committed_bytes_{0};
  std::atomic<std::uint32_t> records_{0};
  std::atomic<std::uint32_t> done_{0};
  std::atomic<bool> sealed_{false};
  std::atomic<bool> damaged_{false};

  // Damage bookkeeping (rare path), under damage_mutex_.
  std::mutex damage_mutex_;
  std::vector<Damage> damage_;             // every stretch reported so far
  std::uint64_t search_from_offset_ = 0;   // skip_damage() left a search open at this offset...
  std::uint64_t search_resume_ = 0;        // ...with every position before this one checked
  std::vector<std::uint64_t> v1_offsets_;  // format 1 only: where each record's frame starts
};

}  // namespace intake::spool
