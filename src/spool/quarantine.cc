#include "spool/quarantine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "spool/record_codec.h"

namespace intake::spool {

Quarantine::Quarantine(const SpoolOptions& settings, FileOps& file_ops, SpoolCounters& counters)
    : settings_(settings), file_ops_(file_ops), counters_(counters) {}

void Quarantine::keep(const kafka::OutgoingRecord& record, std::string_view reason) {
  const bool sync = settings_.fsync != SpoolOptions::Fsync::kNever;
  spdlog::error("spool: a record for topic '{}' ({} bytes) will never be accepted by Kafka ({}); kept in {}/rejected/",
                record.topic, record.value.size(), reason, settings_.dir);
  std::lock_guard lock(mutex_);
  if (!segment_) {
    const std::string dir = settings_.dir + "/rejected";
    (void)file_ops_.make_directories(dir);  // if it fails, so does creating the segment, which is logged
    std::uint32_t seq = 1;
    if (auto names = file_ops_.list_directory(dir); names) {
      for (const auto& name : names.value()) seq = std::max(seq, Segment::seq_of(name) + 1);
    }
    auto created = Segment::create(dir, seq, sync, file_ops_);
    if (!created) {
      spdlog::error("{}; the record is lost", created.error().message);
      return;
    }
    segment_ = std::move(created).value();
  }
  std::string payload;
  encode(record, payload);
  if (auto appended = segment_->append(payload); !appended) {
    spdlog::error("{}; the record is lost", appended.error().message);
    return;
  }
  if (sync) (void)segment_->sync();
  counters_.quarantined.fetch_add(1);
}

}  // namespace intake::spool
