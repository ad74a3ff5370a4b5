#include "spool/spool_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "spool/log_format.h"

namespace intake::spool {

SpoolReader::SpoolReader(const SpoolOptions& settings, FileOps& file_ops, SegmentSet& segments, SpoolCounters& counters,
                         ConsumerSignal& signal)
    : settings_(settings), file_ops_(file_ops), segments_(segments), counters_(counters), signal_(signal) {}

std::uint32_t SpoolReader::recover() {
  auto names = file_ops_.list_directory(settings_.dir);
  if (!names) throw std::runtime_error("spool.dir " + settings_.dir + ": cannot list it: " + names.error().message);
  std::vector<std::uint32_t> found;
  for (const auto& name : names.value()) {
    if (const auto seq = Segment::seq_of(name); seq != 0) found.push_back(seq);
  }
  std::sort(found.begin(), found.end());
  std::uint32_t next_seq = 1;
  std::uint64_t waiting = 0;
  for (const auto seq : found) {
    auto recovered = Segment::recover(settings_.dir, seq, file_ops_);
    if (!recovered) throw std::runtime_error(recovered.error().message);
    auto& result = recovered.value();
    const std::string path = Segment::log_path(settings_.dir, seq);
    next_seq = seq + 1;
    if (!result.segment) {
      spdlog::error(
          "spool: {}: not a segment this version can read (unknown magic); moved to {} untouched, "
          "nothing in it is replayed",
          path, result.set_aside_to);
      continue;
    }
    if (result.torn_bytes > 0) {
      spdlog::warn(
          "spool: {}: {} bytes from offset {} on are a torn tail (the process died mid-write; nothing "
          "that reads back follows them); not replayed, {}",
          path, result.torn_bytes, result.torn_offset,
          result.torn_copy.empty() ? "left in the segment (no copy could be made), which goes to damaged/ "
                                     "once its records are done"
                                   : "cut off; a copy is in " + result.torn_copy);
      counters_.torn_bytes.fetch_add(result.torn_bytes);
    }
    for (const auto& damage : result.damage) count_damage(seq, damage, "found at start-up");
    if (result.acks_cleared) {
      spdlog::error(
          "spool: {}: the ack bits do not read back or mark records that cannot exist; {}; every record "
          "of the segment is replayed (duplicates, not a loss)",
          Segment::acks_path(settings_.dir, seq),
          result.acks_copy.empty() ? "cleared in place" : "moved to " + result.acks_copy);
    }
    auto segment = std::shared_ptr<Segment>(std::move(result.segment));
    if (segment->finished()) {
      retire(*segment);
      continue;
    }
    waiting += segment->records() - segment->done_records();
    counters_.appended_records.fetch_add(segment->records());
    counters_.bytes.fetch_add(segment->committed_bytes());
    segments_.add(std::move(segment));
  }
  counters_.recovered.store(waiting);
  const auto oldest = segments_.first_from(0);
  cursor_seq_ = oldest ? oldest->seq() : next_seq;
  if (waiting > 0) {
    spdlog::info("spool: {} records from an earlier run wait in {} ({} segments); they go to Kafka first", waiting,
                 settings_.dir, segments_.size());
  }
  return next_seq;
}

void SpoolReader::count_damage(std::uint32_t seq, const Segment::Damage& damage, std::string_view why) {
  counters_.damaged_regions.fetch_add(1);
  counters_.damaged_bytes.fetch_add(damage.bytes);
  counters_.unreadable.fetch_add(damage.undelivered);
  const std::string what = damage.bytes == 0 ? "records are missing before offset " + std::to_string(damage.offset)
                                             : std::to_string(damage.bytes) + " bytes at offset " +
                                                   std::to_string(damage.offset) + " do not read back";
  const std::string lost =
      !damage.records_known ? "an unknown number of records from record " + std::to_string(damage.first_record) +
                                  " on are not replayed (format 1 has no sync marker to find the next one)"
      : damage.records == 0 ? "no record is lost"
      : damage.records == 1 ? "record " + std::to_string(damage.first_record) + " is lost"
                            : "records " + std::to_string(damage.first_record) + ".." +
                                  std::to_string(damage.first_record + damage.records - 1) + " are lost";
  spdlog::error(
      "spool: {}: {} (disk corruption?; {}): {} ({} of them not delivered yet); every record before "
      "and after is replayed; the segment moves to {}/{}/ once they are done",
      Segment::log_path(settings_.dir, seq), what, why, lost, damage.undelivered, settings_.dir, kDamagedDir);
}

void SpoolReader::retire(Segment& segment) {
  if (!segment.damaged()) {
    segment.remove_files();
    return;
  }
  if (auto moved = segment.set_aside(); moved) {
    spdlog::warn(
        "spool: {}: every record that reads back is done; the segment, which holds damaged bytes, is kept "
        "in {} for inspection",
        Segment::log_path(settings_.dir, segment.seq()), moved.value());
  } else {
    spdlog::error("{}; the segment stays where it is", moved.error().message);
  }
}

void SpoolReader::done(Ticket ticket) {
  const auto found = segments_.find(ticket_segment(ticket));
  if (!found || !found->mark_done(ticket_record(ticket))) return;
  counters_.done_since_start.fetch_add(1, std::memory_order_relaxed);
  if (found->finished()) {
    signal_.segment_finished();
    signal_.wake();
  }
}

bool SpoolReader::skip_damage(const std::shared_ptr<Segment>& segment, std::string_view why) {
  bool known = false;
  const auto damage = segment->skip_damage(cursor_offset_, cursor_ordinal_, &known);
  if (!damage) return false;
  if (!known) count_damage(segment->seq(), *damage, why);
  counters_.taken_records.fetch_add(damage->records, std::memory_order_release);
  cursor_offset_ = damage->offset + damage->bytes;
  cursor_ordinal_ = damage->first_record + damage->records;
  if (segment->finished()) signal_.segment_finished();
  return true;
}

bool SpoolReader::peek(Pending& out) {
  for (;;) {
    if (!cursor_segment_) {
      auto next = segments_.first_from(cursor_seq_);
      if (!next) return false;
      cursor_seq_ = next->seq();
      cursor_segment_ = std::move(next);
      cursor_offset_ = kSegmentMagic.size();
      cursor_ordinal_ = 0;
    }
    const auto& segment = cursor_segment_;
    // Read `sealed` before the size: a segment sealed after its last append shows all of it.
    const bool sealed = segment->sealed();
    if (cursor_offset_ >= segment->committed_bytes()) {
      if (!sealed) return false;  // the active segment, and nothing new in it
      cursor_seq_ = segment->seq() + 1;
      cursor_segment_.reset();
      continue;
    }
    std::uint64_t next_offset = 0;
    std::uint32_t record = cursor_ordinal_;
    auto payload = segment->read(cursor_offset_, read_buffer_, next_offset, &record);
    if (!payload || record != cursor_ordinal_) {
      std::string_view why = "the next frame carries a later record number";
      if (!payload) why = payload.error().message;
      if (why.starts_with("spool: ")) why.remove_prefix(7);
      // False: the active segment, damaged up to its end; wait for a record after the damage.
      if (!skip_damage(segment, "found while replaying: " + std::string(why))) return false;
      continue;
    }
    peeked_next_offset_ = next_offset;
    if (segment->is_done(cursor_ordinal_)) {  // delivered before a restart: not again
      advance();
      continue;
    }
    if (auto decoded = decode(payload.value(), out.record); !decoded) {
      spdlog::error("spool: {}: record {}: {}; skipped", Segment::log_path(settings_.dir, segment->seq()),
                    cursor_ordinal_, decoded.error().message);
      counters_.unreadable.fetch_add(1);
      segment->mark_done(cursor_ordinal_);
      advance();
      continue;
    }
    out.ticket = make_ticket(segment->seq(), cursor_ordinal_);
    return true;
  }
}

void SpoolReader::advance() {
  cursor_offset_ = peeked_next_offset_;
  ++cursor_ordinal_;
  counters_.taken_records.fetch_add(1, std::memory_order_release);
}

void SpoolReader::retire_finished() {
  // A finished segment holds nothing the consumer still needs (every record is done), and
  // an open descriptor keeps it readable even while the cursor is in it.
  for (const auto& segment : segments_.take_finished()) {
    if (segment == cursor_segment_) {
      // Every record in it is done; those the cursor had not reached count as taken.
      counters_.taken_records.fetch_add(segment->records() - cursor_ordinal_, std::memory_order_release);
      cursor_seq_ = segment->seq() + 1;
      cursor_segment_.reset();
    }
    retire(*segment);
    counters_.bytes.fetch_sub(segment->committed_bytes());
  }
}

}  // namespace intake::spool
