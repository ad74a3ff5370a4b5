#include "spool/disk_spool.h"

#include <fcntl.h>

#include <stdexcept>

namespace intake::spool {

DiskSpool::DirectoryLock::DirectoryLock(FileOps& ops, const std::string& dir) : file_ops(ops) {
  if (auto made = file_ops.make_directories(dir); !made) {
    throw std::runtime_error("spool.dir " + dir + ": cannot create it: " + made.error().message);
  }
  // One process per spool directory: two writers would interleave segments.
  auto opened = file_ops.open(dir + "/LOCK", O_RDWR | O_CREAT | O_CLOEXEC);
  if (!opened) throw std::runtime_error("spool.dir " + dir + ": cannot open LOCK: " + opened.error().message);
  fd = opened.value();
  if (!file_ops.lock(fd)) {
    file_ops.close(fd);
    throw std::runtime_error("spool.dir " + dir + " is in use by another intake process; give each its own");
  }
}

DiskSpool::DirectoryLock::~DirectoryLock() {
  if (fd >= 0) file_ops.close(fd);
}

DiskSpool::DiskSpool(const spool::SpoolOptions& settings, FileOps& file_ops)
    : settings_(settings),
      lock_(file_ops, settings_.dir),
      reader_(settings_, file_ops, segments_, counters_, signal_),
      writer_(settings_, file_ops, segments_, counters_, signal_),
      quarantine_(settings_, file_ops, counters_) {
  writer_.start(reader_.recover());
}

DiskSpool::~DiskSpool() { writer_.stop(); }

void DiskSpool::maintain(std::chrono::milliseconds seal_after, bool right_now) {
  const auto now = std::chrono::steady_clock::now();
  if (!right_now && !signal_.has_finished_segment() && now < next_maintenance_) return;
  next_maintenance_ = now + std::chrono::milliseconds(50);
  writer_.seal_if_caught_up(now, seal_after);
  signal_.clear_finished_segment();
  reader_.retire_finished();
}

SpoolStats DiskSpool::stats() const {
  SpoolStats stats;
  stats.bytes = counters_.bytes.load();
  const auto appended = counters_.appended_records.load(), taken = counters_.taken_records.load();
  stats.waiting_records = appended > taken ? appended - taken : 0;
  stats.segments = segments_.size();
  stats.appended = counters_.appended_since_start.load();
  stats.done = counters_.done_since_start.load();
  stats.recovered = counters_.recovered.load();
  stats.torn_bytes = counters_.torn_bytes.load();
  stats.unreadable = counters_.unreadable.load();
  stats.damaged_regions = counters_.damaged_regions.load();
  stats.damaged_bytes = counters_.damaged_bytes.load();
  stats.quarantined = counters_.quarantined.load();
  stats.data_syncs = counters_.data_syncs.load();
  return stats;
}

}  // namespace intake::spool
