// SpoolCounters: every count the disk spool keeps, in one place. The writer, the reader and the
// quarantine add to them; DiskSpool::stats() reads them. Lock-free, safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace intake::spool {

struct SpoolCounters {
  std::atomic<std::uint64_t> appended_records{0};  // including those recovered at start
  std::atomic<std::uint64_t> taken_records{0};     // handed to Kafka, or skipped by the reader
  std::atomic<std::uint64_t> bytes{0};             // on disk now, in live segments
  std::atomic<std::uint64_t> appended_since_start{0};
  std::atomic<std::uint64_t> done_since_start{0};
  std::atomic<std::uint64_t> recovered{0};
  std::atomic<std::uint64_t> torn_bytes{0};
  std::atomic<std::uint64_t> unreadable{0};
  std::atomic<std::uint64_t> data_syncs{0};
  std::atomic<std::uint64_t> damaged_regions{0};
  std::atomic<std::uint64_t> damaged_bytes{0};
  std::atomic<std::uint64_t> quarantined{0};

  // True while records wait to be handed to Kafka.
  bool has_backlog() const {
    return appended_records.load(std::memory_order_acquire) > taken_records.load(std::memory_order_acquire);
  }
};

}  // namespace intake::spool
