// What the spool's unit tests share: small-segment options for a temp directory and a record
// to append.
#pragma once

#include <string>
#include <string_view>

#include "kafka/record_sink.h"
#include "spool/spool_options.h"

namespace intake::testing {

// Segments of 64 KiB (the smallest), 16 MiB in all, no fsync: fast, and many boundaries.
inline spool::SpoolOptions spool_options_for(const std::string& dir) {
  spool::SpoolOptions options;
  options.dir = dir;
  options.fsync = spool::SpoolOptions::Fsync::kNever;
  options.segment_bytes = 64 * 1024;
  options.max_bytes = 16 * 1024 * 1024;
  return options;
}

// An async record to topic "spool.test"; `value` must outlive its use.
inline kafka::OutgoingRecord spool_record(std::string_view value) {
  return kafka::OutgoingRecord{
      .topic = "spool.test", .key = {}, .value = value, .partition = -1, .headers = {}, .listener = nullptr};
}

}  // namespace intake::testing
