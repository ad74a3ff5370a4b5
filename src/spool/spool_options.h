// The disk spool's options (spool/disk_spool.h). Off unless `dir` is set. Plain values with defaults;
// filled from the YAML's `spool:` section by config/static_config.cc, the only code that knows
// YAML.
#pragma once

#include <cstdint>
#include <string>

namespace intake::spool {

struct SpoolOptions {
  // fallback: only records Kafka cannot take now (unreachable, queue full, failed after
  // retries, left at shutdown) go to disk. write_ahead: every async record is on disk before
  // its 202, so even kill -9 of the gateway loses none (with fsync: always, not even power loss).
  enum class Mode : std::uint8_t { kFallback, kWriteAhead };
  enum class Fsync : std::uint8_t { kAlways, kInterval, kNever };
  std::string dir;  // empty = no spool
  Mode mode = Mode::kFallback;
  Fsync fsync = Fsync::kInterval;
  std::uint32_t fsync_interval_ms = 100;
  std::uint64_t max_bytes = 1024ull * 1024 * 1024;  // beyond this: 507 spool_full
  std::uint64_t segment_bytes = 64ull * 1024 * 1024;
};

}  // namespace intake::spool
