// Quarantine: keeps records Kafka will never accept (too large for the broker, unknown topic,
// ...) in <dir>/rejected/, as segments in the spool's own format, so nothing accepted vanishes.
// Nothing reads them back; an operator inspects and removes them. Safe from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "kafka/record_sink.h"
#include "spool/file_ops.h"
#include "spool/segment.h"
#include "spool/spool_counters.h"
#include "spool/spool_options.h"

namespace intake::spool {

class Quarantine {
 public:
  // Counts each kept record in counters.quarantined. References must outlive this.
  Quarantine(const SpoolOptions& settings, FileOps& file_ops, SpoolCounters& counters);

  // Appends the record to rejected/ (synced unless fsync: never); logs why. If it cannot be
  // written, that is logged too (the record is lost).
  void keep(const kafka::OutgoingRecord& record, std::string_view reason);

 private:
  const SpoolOptions& settings_;
  FileOps& file_ops_;
  SpoolCounters& counters_;
  std::mutex mutex_;
  std::unique_ptr<Segment> segment_;  // opened at the first record
};

}  // namespace intake::spool
