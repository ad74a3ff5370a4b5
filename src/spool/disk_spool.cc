#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "spool/log_format.h"
#include "spool/spool.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;
using Fsync = spool::SpoolOptions::Fsync;

// "0000000042.log" → 42; anything else → 0 (not a segment).
std::uint32_t segment_number(const fs::path& path) {
  if (path.extension() != ".log") return 0;
  const std::string stem = path.stem().string();
  if (stem.size() != 10 || stem.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<std::uint32_t>(std::stoul(stem));
}

}  // namespace

DiskSpool::DiskSpool(const spool::SpoolOptions& settings) : settings_(settings) {
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  if (ec) throw std::runtime_error("spool.dir " + settings_.dir + ": cannot create it: " + ec.message());
  // One process per spool directory: two writers would interleave segments.
  const std::string lock_path = settings_.dir + "/LOCK";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) throw std::runtime_error("spool.dir " + settings_.dir + ": cannot open LOCK: " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw std::runtime_error("spool.dir " + settings_.dir + " is in use by another intake process; give each its own");
  }
  recover();
  if (settings_.fsync == Fsync::kInterval) flusher_ = std::thread([this] { flush_loop(); });
}

DiskSpool::~DiskSpool() {
  stopping_.store(true);
  wake();
  if (flusher_.joinable()) flusher_.join();
  if (auto synced = sync(); !synced) spdlog::error("{}", synced.error().message);
  {
    std::lock_guard lock(segments_mutex_);
    segments_.clear();
  }
  active_.reset();
  cursor_segment_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void DiskSpool::recover() {
  std::vector<std::uint32_t> found;
  for (const auto& entry : fs::directory_iterator(settings_.dir)) {
    if (const auto seq = segment_number(entry.path()); seq != 0) found.push_back(seq);
  }
  std::sort(found.begin(), found.end());
  std::uint64_t waiting = 0;
  for (const auto seq : found) {
    auto recovered = Segment::recover(settings_.dir, seq);
    if (!recovered) throw std::runtime_error(recovered.error().message);
    auto& result = recovered.value();
    const std::string path = Segment::log_path(settings_.dir, seq);
    next_seq_ = seq + 1;
    if (!result.segment) {
      spdlog::error("spool: {}: not a segment this version can read (unknown magic); moved to {} untouched, "
                    "nothing in it is replayed",
                    path, result.set_aside_to);
      continue;
    }
    if (result.torn_bytes > 0) {
      spdlog::warn("spool: {}: {} bytes from offset {} on are a torn tail (the process died mid-write; nothing "
                   "that reads back follows them); not replayed, {}",
                   path, result.torn_bytes, result.torn_offset,
                   result.torn_copy.empty() ? "left in the segment (no copy could be made), which goes to damaged/ "
                                              "once its records are done"
                                            : "cut off; a copy is in " + result.torn_copy);
      torn_bytes_.fetch_add(result.torn_bytes);
    }
    for (const auto& damage : result.damage) count_damage(seq, damage, "found at start-up");
    if (result.acks_cleared) {
      spdlog::error("spool: {}: the ack bits do not read back or mark records that cannot exist; {}; every record "
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
    appended_records_.fetch_add(segment->records());
    bytes_.fetch_add(segment->committed_bytes());
    segments_.emplace(seq, std::move(segment));
  }
  recovered_.store(waiting);
  cursor_seq_ = segments_.empty() ? next_seq_ : segments_.begin()->first;
  if (waiting > 0) {
    spdlog::info("spool: {} records from an earlier run wait in {} ({} segments); they go to Kafka first", waiting,
                 settings_.dir, segments_.size());
  }
}

void DiskSpool::count_damage(std::uint32_t seq, const Segment::Damage& damage, std::string_view why) {
  damaged_regions_.fetch_add(1);
  damaged_bytes_.fetch_add(damage.bytes);
  unreadable_.fetch_add(damage.undelivered);
  const std::string what = damage.bytes == 0
                               ? "records are missing before offset " + std::to_string(damage.offset)
                               : std::to_string(damage.bytes) + " bytes at offset " + std::to_string(damage.offset) +
                                     " do not read back";
  const std::string lost =
      !damage.records_known ? "an unknown number of records from record " + std::to_string(damage.first_record) +
                                  " on are not replayed (format 1 has no sync marker to find the next one)"
      : damage.records == 0 ? "no record is lost"
      : damage.records == 1 ? "record " + std::to_string(damage.first_record) + " is lost"
                            : "records " + std::to_string(damage.first_record) + ".." +
                                  std::to_string(damage.first_record + damage.records - 1) + " are lost";
  spdlog::error("spool: {}: {} (disk corruption?; {}): {} ({} of them not delivered yet); every record before "
                "and after is replayed; the segment moves to {}/{}/ once they are done",
                Segment::log_path(settings_.dir, seq), what, why, lost, damage.undelivered, settings_.dir,
                kDamagedDir);
}

void DiskSpool::retire(Segment& segment) {
  if (!segment.damaged()) {
    segment.remove_files();
    return;
  }
  if (auto moved = segment.set_aside(); moved) {
    spdlog::warn("spool: {}: every record that reads back is done; the segment, which holds damaged bytes, is kept "
                 "in {} for inspection",
                 Segment::log_path(settings_.dir, segment.seq()), moved.value());
  } else {
    spdlog::error("{}; the segment stays where it is", moved.error().message);
  }
}

Result<void> DiskSpool::seal_active_locked() {
  if (!active_ || active_->sealed()) return {};
  // Synced before sealed: sync_through() counts on sealed segments being on disk.
  if (settings_.fsync != Fsync::kNever) {
    if (auto synced = active_->sync(); !synced) return synced.error();
    data_syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  active_->seal();
  return {};
}

Result<void> DiskSpool::rotate_locked() {
  if (auto sealed = seal_active_locked(); !sealed) return sealed.error();
  auto created = Segment::create(settings_.dir, next_seq_, settings_.fsync != Fsync::kNever);
  if (!created) return created.error();
  ++next_seq_;
  active_ = std::shared_ptr<Segment>(std::move(created).value());
  active_opened_ = std::chrono::steady_clock::now();
  bytes_.fetch_add(active_->committed_bytes());
  std::lock_guard lock(segments_mutex_);
  segments_.emplace(active_->seq(), active_);
  return {};
}

Result<Ticket> DiskSpool::append(const kafka::OutgoingRecord& record, Admission admission) {
  Ticket ticket = 0;
  std::uint64_t serial = 0;
  {
    std::lock_guard lock(append_mutex_);
    const std::uint64_t frame_bytes = kFrameHeaderBytes + encoded_size(record);
    const std::uint64_t in_use = bytes_.load();
    if (admission == Admission::kNew && in_use + frame_bytes > settings_.max_bytes) {
      return Error{ErrorCode::kSpoolFull,
                   "the gateway's disk spool is full (" + std::to_string(in_use) + " of " +
                       std::to_string(settings_.max_bytes) +
                       " bytes; Kafka has not taken the records for a while); the record was not accepted, retry "
                       "later",
                   5};
    }
    if (!active_ || active_->sealed() || active_->full(settings_.segment_bytes)) {
      if (auto rotated = rotate_locked(); !rotated) return rotated.error();
    }
    payload_.clear();
    encode(record, payload_);
    auto ordinal = active_->append(payload_);
    if (!ordinal) return ordinal.error();
    if (payload_.capacity() > 4u * 1024 * 1024) payload_ = std::string();
    ticket = make_ticket(active_->seq(), ordinal.value());
    bytes_.fetch_add(frame_bytes);
    appended_records_.fetch_add(1, std::memory_order_release);
    appended_since_start_.fetch_add(1, std::memory_order_relaxed);
    serial = ++append_serial_;
  }
  if (settings_.fsync == Fsync::kAlways) {
    if (auto synced = sync_through(serial); !synced) return synced.error();
  }
  new_records_.store(true, std::memory_order_release);
  work_.notify_one();
  return ticket;
}

Result<void> DiskSpool::sync_through(std::uint64_t mark) {
  std::lock_guard sync_lock(sync_mutex_);
  if (synced_serial_ >= mark) return {};  // another appender's fdatasync covered this record
  std::shared_ptr<Segment> segment;
  std::uint64_t target = 0;
  {
    std::lock_guard lock(append_mutex_);
    segment = active_;
    target = append_serial_;
  }
  // Segments sealed since were synced when they were sealed; only the active one is left.
  if (segment) {
    if (auto synced = segment->sync(); !synced) return synced.error();
    data_syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  synced_serial_ = target;
  return {};
}

Result<void> DiskSpool::sync() {
  std::uint64_t target = 0;
  {
    std::lock_guard lock(append_mutex_);
    target = append_serial_;
  }
  return sync_through(target);
}

void DiskSpool::flush_loop() {
  const auto interval = std::chrono::milliseconds(std::max<std::uint32_t>(settings_.fsync_interval_ms, 1));
  while (!stopping_.load()) {
    {
      std::unique_lock lock(work_mutex_);
      work_.wait_for(lock, interval, [this] { return stopping_.load(); });
    }
    if (auto synced = sync(); !synced) spdlog::error("{}", synced.error().message);
  }
}

std::shared_ptr<Segment> DiskSpool::segment(std::uint32_t seq) const {
  std::lock_guard lock(segments_mutex_);
  const auto found = segments_.find(seq);
  return found == segments_.end() ? nullptr : found->second;
}

void DiskSpool::done(Ticket ticket) {
  const auto seq = static_cast<std::uint32_t>(ticket >> 32);
  const auto ordinal = static_cast<std::uint32_t>(ticket & 0xFFFFFFFFu);
  const auto found = segment(seq);
  if (!found || !found->mark_done(ordinal)) return;
  done_since_start_.fetch_add(1, std::memory_order_relaxed);
  if (found->finished()) {
    finished_segment_.store(true);
    wake();
  }
}

bool DiskSpool::skip_damage(const std::shared_ptr<Segment>& segment, std::string_view why) {
  bool known = false;
  const auto damage = segment->skip_damage(cursor_offset_, cursor_ordinal_, &known);
  if (!damage) return false;
  if (!known) count_damage(segment->seq(), *damage, why);
  taken_records_.fetch_add(damage->records, std::memory_order_release);
  cursor_offset_ = damage->offset + damage->bytes;
  cursor_ordinal_ = damage->first_record + damage->records;
  if (segment->finished()) finished_segment_.store(true);
  return true;
}

bool DiskSpool::peek(Pending& out) {
  for (;;) {
    if (!cursor_segment_) {
      std::lock_guard lock(segments_mutex_);
      const auto next = segments_.lower_bound(cursor_seq_);
      if (next == segments_.end()) return false;
      cursor_segment_ = next->second;
      cursor_seq_ = next->first;
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
      unreadable_.fetch_add(1);
      segment->mark_done(cursor_ordinal_);
      advance();
      continue;
    }
    out.ticket = make_ticket(segment->seq(), cursor_ordinal_);
    return true;
  }
}

void DiskSpool::advance() {
  cursor_offset_ = peeked_next_offset_;
  ++cursor_ordinal_;
  taken_records_.fetch_add(1, std::memory_order_release);
}

void DiskSpool::maintain(std::chrono::milliseconds seal_after, bool right_now) {
  const auto now = std::chrono::steady_clock::now();
  if (!right_now && !finished_segment_.load() && now < next_maintenance_) return;
  next_maintenance_ = now + std::chrono::milliseconds(50);
  // Seal the active segment once everything in it went to Kafka, so it can be deleted when
  // the last delivery report arrives (and a long-idle spool leaves no file behind).
  {
    std::lock_guard lock(append_mutex_);
    if (active_ && !active_->sealed() && active_->records() > 0 && !has_backlog() &&
        now - active_opened_ >= seal_after) {
      if (auto sealed = seal_active_locked(); sealed) {
        active_.reset();
      } else {
        spdlog::error("{}", sealed.error().message);  // tried again at the next maintenance
      }
    }
  }
  finished_segment_.store(false);
  std::vector<std::shared_ptr<Segment>> finished;
  {
    std::lock_guard lock(segments_mutex_);
    // A finished segment holds nothing the consumer still needs (every record is done), and
    // an open descriptor keeps it readable even while the cursor is in it.
    for (auto it = segments_.begin(); it != segments_.end();) {
      if (it->second->finished()) {
        finished.push_back(it->second);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& segment : finished) {
    if (segment == cursor_segment_) {
      // Every record in it is done; those the cursor had not reached count as taken.
      taken_records_.fetch_add(segment->records() - cursor_ordinal_, std::memory_order_release);
      cursor_seq_ = segment->seq() + 1;
      cursor_segment_.reset();
    }
    retire(*segment);
    bytes_.fetch_sub(segment->committed_bytes());
  }
}

void DiskSpool::wait_for_work(std::chrono::milliseconds timeout) {
  std::unique_lock lock(work_mutex_);
  work_.wait_for(lock, timeout, [this] { return woken_ || new_records_.exchange(false) || finished_segment_.load(); });
  woken_ = false;
}

void DiskSpool::pause(std::chrono::milliseconds timeout) {
  std::unique_lock lock(work_mutex_);
  work_.wait_for(lock, timeout, [this] { return woken_; });
  woken_ = false;
}

void DiskSpool::wake() {
  {
    std::lock_guard lock(work_mutex_);
    woken_ = true;
  }
  work_.notify_all();
}

void DiskSpool::quarantine(const kafka::OutgoingRecord& record, std::string_view reason) {
  spdlog::error("spool: a record for topic '{}' ({} bytes) will never be accepted by Kafka ({}); kept in {}/rejected/",
                record.topic, record.value.size(), reason, settings_.dir);
  std::lock_guard lock(quarantine_mutex_);
  if (!quarantine_) {
    const std::string dir = settings_.dir + "/rejected";
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::uint32_t seq = 1;
    for (const auto& entry : fs::directory_iterator(dir, ec)) seq = std::max(seq, segment_number(entry.path()) + 1);
    auto created = Segment::create(dir, seq, settings_.fsync != Fsync::kNever);
    if (!created) {
      spdlog::error("{}; the record is lost", created.error().message);
      return;
    }
    quarantine_ = std::move(created).value();
  }
  std::string payload;
  encode(record, payload);
  if (auto appended = quarantine_->append(payload); !appended) {
    spdlog::error("{}; the record is lost", appended.error().message);
    return;
  }
  if (settings_.fsync != Fsync::kNever) (void)quarantine_->sync();
  quarantined_.fetch_add(1);
}

SpoolStats DiskSpool::stats() const {
  SpoolStats stats;
  stats.bytes = bytes_.load();
  const auto appended = appended_records_.load(), taken = taken_records_.load();
  stats.waiting_records = appended > taken ? appended - taken : 0;
  {
    std::lock_guard lock(segments_mutex_);
    stats.segments = segments_.size();
  }
  stats.appended = appended_since_start_.load();
  stats.done = done_since_start_.load();
  stats.recovered = recovered_.load();
  stats.torn_bytes = torn_bytes_.load();
  stats.unreadable = unreadable_.load();
  stats.damaged_regions = damaged_regions_.load();
  stats.damaged_bytes = damaged_bytes_.load();
  stats.quarantined = quarantined_.load();
  stats.data_syncs = data_syncs_.load();
  return stats;
}

}  // namespace intake::spool
