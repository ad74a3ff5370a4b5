// Segment: one numbered pair of spool files (<seq>.log and <seq>.acks, see log_format.h).
//
// Appends come from one writer at a time (the spool's append lock); reads, acks and counters
// are safe from any thread. Errors are values; only I/O failures produce them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "error/result.h"

namespace intake::spool {

class Segment {
 public:
  // What recovery found in an existing segment.
  struct Recovered {
    std::unique_ptr<Segment> segment;
    std::uint64_t torn_bytes = 0;  // bytes after the last whole record, cut off
  };

  // A new, empty segment (files created; the directory synced when `sync_dir`).
  static Result<std::unique_ptr<Segment>> create(const std::string& dir, std::uint32_t seq, bool sync_dir);
  // Opens a segment left by an earlier run: checks every record's frame and CRC and truncates
  // the file after the last good one. The result is sealed (never appended to again).
  static Result<Recovered> recover(const std::string& dir, std::uint32_t seq);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  std::uint32_t seq() const { return seq_; }

  // Appends one framed record; returns its number. On failure the file is cut back to where
  // it was, so a failed append leaves no partial record behind.
  // REQUIRES: external synchronization among appenders; !sealed().
  Result<std::uint32_t> append(std::string_view payload);

  // Reads the record whose frame starts at `offset` into `buffer`; returns the payload view and
  // sets `next_offset`. REQUIRES: offset < committed_bytes(), at a frame boundary.
  Result<std::string_view> read(std::uint64_t offset, std::string& buffer, std::uint64_t& next_offset) const;

  // Bytes of whole records (with the magic); readers never look past this.
  std::uint64_t committed_bytes() const { return committed_bytes_.load(std::memory_order_acquire); }
  std::uint32_t records() const { return records_.load(std::memory_order_acquire); }
  std::uint32_t done_records() const { return done_.load(std::memory_order_acquire); }
  bool full(std::uint64_t max_bytes) const;

  // Marks record `ordinal` as needing nothing more. Returns true iff it was not marked yet.
  bool mark_done(std::uint32_t ordinal);
  bool is_done(std::uint32_t ordinal) const;

  void seal() { sealed_.store(true, std::memory_order_release); }
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }
  // Sealed and every record done: the files may go.
  bool finished() const { return sealed() && done_records() == records(); }

  // fdatasync of the log (the acks are advisory: losing them replays, never loses, a record).
  Result<void> sync();
  // Deletes both files. The object stays usable for reads until destroyed.
  void remove_files();

  static std::string log_path(const std::string& dir, std::uint32_t seq);
  static std::string acks_path(const std::string& dir, std::uint32_t seq);

 private:
  Segment(std::string dir, std::uint32_t seq, int log_fd, int acks_fd, std::uint8_t* acks);
  static Result<std::uint8_t*> map_acks(int acks_fd, const std::string& path);

  std::string dir_;
  std::uint32_t seq_;
  int log_fd_ = -1;
  int acks_fd_ = -1;
  std::uint8_t* acks_ = nullptr;  // kAckFileBytes, MAP_SHARED
  std::string frame_;              // append scratch, reused
  std::atomic<std::uint64_t> committed_bytes_{0};
  std::atomic<std::uint32_t> records_{0};
  std::atomic<std::uint32_t> done_{0};
  std::atomic<bool> sealed_{false};
};

}  // namespace intake::spool
