#include "spool/segment.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "spool/crc32c.h"
#include "spool/log_format.h"

namespace intake::spool {
namespace {

// `failed` (from FileOps) with what was being done to which file.
Error io_error(const std::string& what, const std::string& path, const Error& failed) {
  Error error = failed;
  error.message = "spool: cannot " + what + " " + path + ": " + failed.message;
  return error;
}

void put_u32(char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
  return value;
}

// Writes all `size` bytes, going on after short writes; stops at the first failed write.
Result<void> write_all(FileOps& ops, int fd, const char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    auto written = ops.write_at(fd, data, size, offset);
    if (!written) return written.error();
    if (written.value() == 0) return os_error(EIO);  // a write that makes no progress
    data += written.value();
    size -= written.value();
    offset += written.value();
  }
  return {};
}

// Reads exactly `size` bytes. The read's own error, or EIO when the file ends first.
Result<void> read_all(FileOps& ops, int fd, char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    auto got = ops.read_at(fd, data, size, offset);
    if (!got) return std::move(got).error();
    if (got.value() == 0) return os_error(EIO);
    data += got.value();
    size -= got.value();
    offset += got.value();
  }
  return {};
}

Result<void> sync_directory(FileOps& ops, const std::string& dir) {
  auto fd = ops.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!fd) return io_error("open directory", dir, fd.error());
  auto synced = ops.sync(fd.value());
  ops.close(fd.value());
  if (!synced) return io_error("sync directory", dir, synced.error());
  return {};
}

// ---- Frames (layout in log_format.h) ----

struct FrameHeader {
  std::uint32_t ordinal = 0;
  std::uint32_t length = 0;
  std::uint32_t payload_crc = 0;
};

std::uint32_t header_crc(const char* header) { return crc32c(std::string_view(header, 16)); }

void encode_header(char* out, std::uint32_t ordinal, std::string_view payload) {
  std::memcpy(out, kFrameSync.data(), kFrameSync.size());
  put_u32(out + 4, ordinal);
  put_u32(out + 8, static_cast<std::uint32_t>(payload.size()));
  put_u32(out + 12, crc32c(payload));
  put_u32(out + 16, header_crc(out));
}

// True iff `bytes` (kFrameHeaderBytes of them) are a format-2 header that checks out.
bool parse_header(const char* bytes, FrameHeader& out) {
  if (std::memcmp(bytes, kFrameSync.data(), kFrameSync.size()) != 0) return false;
  if (get_u32(bytes + 16) != header_crc(bytes)) return false;
  out.ordinal = get_u32(bytes + 4);
  out.length = get_u32(bytes + 8);
  out.payload_crc = get_u32(bytes + 12);
  return out.length <= kMaxPayloadBytes && out.ordinal < kMaxRecordsPerSegment;
}

enum class FrameCheck : std::uint8_t {
  kGood,
  kBadHeader,   // no header we wrote starts here (or it does not read back)
  kPastEnd,     // the header checks out, the payload runs past `end`
  kBadPayload,  // the header checks out, the payload is inside `end` and does not read back
};

struct CheckedFrame {
  FrameCheck check = FrameCheck::kBadHeader;
  FrameHeader header;
  std::uint64_t next = 0;  // where the following frame starts (valid unless kBadHeader)
};

// Checks the format-2 frame at `offset`, reading its payload into `payload`.
CheckedFrame check_frame(FileOps& ops, int fd, std::uint64_t offset, std::uint64_t end, std::string& payload) {
  CheckedFrame frame;
  char header[kFrameHeaderBytes];
  if (offset + kFrameHeaderBytes > end || !read_all(ops, fd, header, sizeof(header), offset) ||
      !parse_header(header, frame.header)) {
    return frame;
  }
  frame.next = offset + kFrameHeaderBytes + frame.header.length;
  if (frame.next > end) {
    frame.check = FrameCheck::kPastEnd;
    return frame;
  }
  payload.resize(frame.header.length);
  const bool read = read_all(ops, fd, payload.data(), payload.size(), offset + kFrameHeaderBytes).ok();
  frame.check = read && crc32c(payload) == frame.header.payload_crc ? FrameCheck::kGood : FrameCheck::kBadPayload;
  return frame;
}

// True iff a format-2 header that checks out starts at `offset` (and fits before `end`).
bool header_at(FileOps& ops, int fd, std::uint64_t offset, std::uint64_t end, FrameHeader& out) {
  char header[kFrameHeaderBytes];
  return offset + kFrameHeaderBytes <= end && read_all(ops, fd, header, sizeof(header), offset) &&
         parse_header(header, out);
}

// After a frame whose header checks out and whose payload does not: true iff its length leads
// to the end or to a later record's header, i.e. only the payload is damaged and the frame can
// be stepped over as a whole. (Else bytes went missing or the length is wrong: search instead.)
bool length_leads_on(FileOps& ops, int fd, const FrameHeader& header, std::uint64_t next, std::uint64_t end) {
  FrameHeader after;
  return next == end || (header_at(ops, fd, next, end, after) && after.ordinal > header.ordinal);
}

struct FoundHeader {
  std::uint64_t offset = 0;
  FrameHeader header;
};

// The first offset in [from, end - kFrameHeaderBytes] where a format-2 header with a record
// number >= `min_ordinal` checks out. Sets `*resume` to the first offset it did not examine.
// Reads in chunks; a part that does not read (an I/O error) is stepped over 4 KiB at a time.
std::optional<FoundHeader> find_header(FileOps& ops, int fd, std::uint64_t from, std::uint64_t end,
                                       std::uint32_t min_ordinal, std::uint64_t* resume) {
  constexpr std::size_t kChunk = 64 * 1024, kBlock = 4096;
  std::size_t chunk = kChunk;
  std::string window;
  std::uint64_t pos = from;
  while (pos + kFrameHeaderBytes <= end) {
    const auto span = static_cast<std::size_t>(std::min<std::uint64_t>(chunk + kFrameHeaderBytes - 1, end - pos));
    window.resize(span);
    if (!read_all(ops, fd, window.data(), span, pos)) {
      if (chunk > kBlock) {
        chunk = kBlock;  // narrow down the part that does not read
      } else {
        pos += kBlock;
      }
      continue;
    }
    for (std::size_t at = window.find(kFrameSync); at != std::string::npos && at + kFrameHeaderBytes <= span;
         at = window.find(kFrameSync, at + 1)) {
      FoundHeader found{.offset = pos + at, .header = {}};
      if (parse_header(window.data() + at, found.header) && found.header.ordinal >= min_ordinal) {
        if (resume != nullptr) *resume = found.offset + 1;
        return found;
      }
    }
    pos += span - (kFrameHeaderBytes - 1);  // windows overlap so a header across the seam is seen
  }
  if (resume != nullptr) *resume = std::max(pos, from);
  return std::nullopt;
}

// Format 1: `length u32 | crc32c u32 | payload`; no empty payload is ever written.
struct CheckedFrameV1 {
  FrameCheck check = FrameCheck::kBadHeader;  // kBadHeader: the length cannot be a record's
  std::uint64_t next = 0;
};

CheckedFrameV1 check_frame_v1(FileOps& ops, int fd, std::uint64_t offset, std::uint64_t end, std::string& payload) {
  CheckedFrameV1 frame;
  char header[kFrameHeaderBytesV1];
  if (offset + kFrameHeaderBytesV1 > end) {
    frame.check = FrameCheck::kPastEnd;
    return frame;
  }
  if (!read_all(ops, fd, header, sizeof(header), offset)) return frame;
  const std::uint32_t length = get_u32(header);
  if (length == 0 || length > kMaxPayloadBytes) return frame;
  frame.next = offset + kFrameHeaderBytesV1 + length;
  if (frame.next > end) {
    frame.check = FrameCheck::kPastEnd;
    return frame;
  }
  payload.resize(length);
  const bool read = read_all(ops, fd, payload.data(), length, offset + kFrameHeaderBytesV1).ok();
  frame.check = read && crc32c(payload) == get_u32(header + 4) ? FrameCheck::kGood : FrameCheck::kBadPayload;
  return frame;
}

// ---- damaged/ ----

std::string damaged_dir(const std::string& dir) { return dir + "/" + std::string(kDamagedDir); }

Result<void> ensure_directory(FileOps& ops, const std::string& path) {
  if (auto made = ops.make_directory(path); !made) return io_error("create directory", path, made.error());
  return {};
}

// `stem` under `dir`, made unique with -2, -3, ... so that no `stem<ext>` exists for any ext.
std::string fresh_stem(FileOps& ops, const std::string& dir, const std::string& stem,
                       std::initializer_list<const char*> exts) {
  for (int n = 1;; ++n) {
    std::string candidate = dir;
    candidate += '/';
    candidate += stem;
    if (n != 1) candidate += "-" + std::to_string(n);
    if (std::none_of(exts.begin(), exts.end(), [&](const char* ext) { return ops.exists(candidate + ext); })) {
      return candidate;
    }
  }
}

std::string seq_name(std::uint32_t seq) {
  char name[16];
  std::snprintf(name, sizeof(name), "%010u", seq);
  return name;
}

// Copies bytes [offset, offset + bytes) of `fd` to a new file `path`, synced.
Result<void> copy_range(FileOps& ops, int fd, std::uint64_t offset, std::uint64_t bytes, const std::string& path) {
  auto out = ops.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC);
  if (!out) return io_error("create", path, out.error());
  std::string buffer;
  std::uint64_t done = 0;
  Result<void> copied;
  while (copied && done < bytes) {
    buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(bytes - done, 1u << 20)));
    copied = read_all(ops, fd, buffer.data(), buffer.size(), offset + done);
    if (copied) copied = write_all(ops, out.value(), buffer.data(), buffer.size(), done);
    done += buffer.size();
  }
  if (copied) copied = ops.sync_data(out.value());
  ops.close(out.value());
  if (!copied) {
    (void)ops.unlink(path);
    return io_error("copy damaged bytes to", path, copied.error());
  }
  return {};
}

}  // namespace

std::string Segment::log_path(const std::string& dir, std::uint32_t seq) { return dir + "/" + seq_name(seq) + ".log"; }

std::uint32_t Segment::seq_of(std::string_view file_name) {
  constexpr std::string_view kExtension = ".log";
  if (file_name.size() != 10 + kExtension.size() || !file_name.ends_with(kExtension)) return 0;
  std::uint32_t seq = 0;
  for (const char digit : file_name.substr(0, 10)) {
    if (digit < '0' || digit > '9') return 0;
    seq = seq * 10 + static_cast<std::uint32_t>(digit - '0');
  }
  return seq;
}

std::string Segment::acks_path(const std::string& dir, std::uint32_t seq) {
  return dir + "/" + seq_name(seq) + ".acks";
}

Segment::Segment(FileOps& ops, std::string dir, std::uint32_t seq, std::uint8_t format, int log_fd, int acks_fd,
                 std::uint8_t* acks)
    : ops_(ops), dir_(std::move(dir)), seq_(seq), format_(format), log_fd_(log_fd), acks_fd_(acks_fd), acks_(acks) {}

Segment::~Segment() {
  if (acks_ != nullptr) ops_.unmap(acks_, kAckFileBytes);
  if (acks_fd_ >= 0) ops_.close(acks_fd_);
  if (log_fd_ >= 0) ops_.close(log_fd_);
}

Result<std::uint8_t*> Segment::map_acks(FileOps& ops, int acks_fd, const std::string& path) {
  if (auto sized = ops.truncate(acks_fd, kAckFileBytes); !sized) return io_error("size", path, sized.error());
  auto mapped = ops.map_shared(acks_fd, kAckFileBytes);
  if (!mapped) return io_error("map", path, mapped.error());
  return mapped.value();
}

Result<std::unique_ptr<Segment>> Segment::create(const std::string& dir, std::uint32_t seq, bool sync_dir,
                                                 FileOps& ops) {
  const std::string log = log_path(dir, seq);
  const std::string acks = acks_path(dir, seq);
  auto log_fd = ops.open(log, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC);
  if (!log_fd) return io_error("create", log, log_fd.error());
  auto acks_fd = ops.open(acks, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);
  if (!acks_fd) {
    ops.close(log_fd.value());
    (void)ops.unlink(log);
    return io_error("create", acks, acks_fd.error());
  }
  // Undoes the creation: a number whose files exist cannot be created again.
  const auto give_up = [&](Error error) {
    ops.close(log_fd.value());
    ops.close(acks_fd.value());
    (void)ops.unlink(log);
    (void)ops.unlink(acks);
    return error;
  };
  auto mapped = map_acks(ops, acks_fd.value(), acks);
  if (!mapped) return give_up(mapped.error());
  if (auto written = write_all(ops, log_fd.value(), kSegmentMagic.data(), kSegmentMagic.size(), 0); !written) {
    ops.unmap(mapped.value(), kAckFileBytes);
    return give_up(io_error("write", log, written.error()));
  }
  std::unique_ptr<Segment> segment(new Segment(ops, dir, seq, 2, log_fd.value(), acks_fd.value(), mapped.value()));
  segment->committed_bytes_.store(kSegmentMagic.size());
  if (sync_dir) {
    if (auto synced = sync_directory(ops, dir); !synced) {
      // Undone like any other failed creation: files left behind would make every later
      // create() of this number fail (O_EXCL), and so every later rotation.
      segment.reset();
      (void)ops.unlink(log);
      (void)ops.unlink(acks);
      return synced.error();
    }
  }
  return segment;
}

Result<Segment::Recovered> Segment::recover(const std::string& dir, std::uint32_t seq, FileOps& ops) {
  const std::string log = log_path(dir, seq);
  const std::string acks = acks_path(dir, seq);
  auto opened = ops.open(log, O_RDWR | O_CLOEXEC);
  if (!opened) return io_error("open", log, opened.error());
  const int log_fd = opened.value();
  auto size = ops.size(log_fd);
  if (!size) {
    ops.close(log_fd);
    return io_error("stat", log, size.error());
  }
  const std::uint64_t file_bytes = size.value();
  char magic[8] = {};
  const std::size_t magic_bytes = std::min<std::uint64_t>(file_bytes, sizeof(magic));
  if (auto read = read_all(ops, log_fd, magic, magic_bytes, 0); !read) {
    ops.close(log_fd);
    return io_error("read", log, read.error());
  }
  const std::string_view head(magic, magic_bytes);
  Recovered recovered;
  bool rewrite = false;
  if (head == kSegmentMagic) {
    recovered.format = 2;
  } else if (head == kSegmentMagicV1) {
    recovered.format = 1;
  } else if (file_bytes < kSegmentMagic.size() && kSegmentMagic.substr(0, head.size()) == head) {
    // Not even a whole magic: the process died while creating it. Rewrite an empty segment.
    recovered.format = 2;
    rewrite = true;
  } else if (find_header(ops, log_fd, kSegmentMagic.size(), file_bytes, 0, nullptr)) {
    // The magic is damaged but a format-2 header checks out in the file: read it as format 2;
    // the magic counts as damage (no record in it).
    recovered.format = 2;
    recovered.damage.push_back(Damage{.offset = 0,
                                      .bytes = kSegmentMagic.size(),
                                      .first_record = 0,
                                      .records = 0,
                                      .records_known = true,
                                      .undelivered = 0});
  } else {
    // Not a segment this version can read: keep it whole for inspection, replay nothing.
    ops.close(log_fd);
    const std::string where = damaged_dir(dir);
    if (auto made = ensure_directory(ops, where); !made) return made.error();
    const std::string stem = fresh_stem(ops, where, seq_name(seq), {".log", ".acks"});
    if (auto moved = ops.rename(log, stem + ".log"); !moved) return io_error("move aside", log, moved.error());
    if (ops.exists(acks)) {
      if (auto moved = ops.rename(acks, stem + ".acks"); !moved) return io_error("move aside", acks, moved.error());
    }
    recovered.set_aside_to = stem + ".log";
    return recovered;
  }

  auto acks_fd = ops.open(acks, O_RDWR | O_CREAT | O_CLOEXEC);
  if (!acks_fd) {
    ops.close(log_fd);
    return io_error("open", acks, acks_fd.error());
  }
  std::unique_ptr<Segment> segment(new Segment(ops, dir, seq, recovered.format, log_fd, acks_fd.value(), nullptr));
  if (rewrite) {
    auto rewritten = ops.truncate(log_fd, 0);
    if (rewritten) rewritten = write_all(ops, log_fd, kSegmentMagic.data(), kSegmentMagic.size(), 0);
    if (!rewritten) return io_error("rewrite", log, rewritten.error());
    segment->committed_bytes_.store(kSegmentMagic.size());
  } else if (recovered.format == 2) {
    segment->recover_frames(file_bytes, recovered);
  } else {
    segment->recover_frames_v1(file_bytes, recovered);
  }
  // A record may have been acked and then torn (power loss): bits of records that could have
  // been in the bytes past the committed end are not evidence of damage; bits past those are.
  const std::size_t header_bytes = recovered.format == 1 ? kFrameHeaderBytesV1 : kFrameHeaderBytes;
  const std::uint64_t could_exist = segment->records() + (file_bytes - segment->committed_bytes()) / header_bytes;
  const bool clear_mapping = segment->check_acks(
      static_cast<std::uint32_t>(std::min<std::uint64_t>(could_exist, kMaxRecordsPerSegment)), recovered);
  auto mapped = map_acks(ops, segment->acks_fd_, acks);
  if (!mapped) return mapped.error();
  segment->acks_ = mapped.value();
  if (clear_mapping) std::memset(segment->acks_, 0, kAckFileBytes);

  // Damaged records are lost: mark them done so the segment can finish.
  for (auto& damage : recovered.damage) {
    for (std::uint32_t i = 0; i < damage.records; ++i) {
      if (segment->mark_done(damage.first_record + i)) ++damage.undelivered;
    }
  }
  std::uint32_t done = 0;
  for (std::uint32_t i = 0; i < segment->records(); ++i) done += segment->is_done(i) ? 1 : 0;
  segment->done_.store(done);
  segment->damage_ = recovered.damage;
  if (!recovered.damage.empty()) segment->damaged_.store(true);
  segment->seal();
  recovered.segment = std::move(segment);
  return recovered;
}

void Segment::recover_frames(std::uint64_t file_bytes, Recovered& out) {
  std::uint64_t pos = kSegmentMagic.size();
  std::uint64_t good_end = pos;   // end of the last frame that read back
  std::uint32_t next_record = 0;  // the record number the next frame should carry
  std::optional<Damage> open;     // what did not read back since that frame
  std::string payload;
  // Damage found at `pos`, before record `next_record`; its size is known once a frame reads again.
  const auto damage_starting_here = [&] {
    return Damage{
        .offset = pos, .bytes = 0, .first_record = next_record, .records = 0, .records_known = true, .undelivered = 0};
  };
  while (pos < file_bytes) {
    const CheckedFrame frame = check_frame(ops_, log_fd_, pos, file_bytes, payload);
    // A header that checks out is trusted unless it goes back in numbering (a stale copy).
    const bool trusted = frame.check != FrameCheck::kBadHeader && frame.header.ordinal >= next_record;
    if (trusted && frame.check == FrameCheck::kGood) {
      if (!open && frame.header.ordinal > next_record) {
        // Whole frames are missing (bytes cut out at frame boundaries): a gap of no bytes.
        open = damage_starting_here();
      }
      if (open) {
        // A frame reads back after damage: the damage was mid-segment, not a torn tail.
        open->bytes = pos - open->offset;
        open->records = frame.header.ordinal - open->first_record;
        out.damage.push_back(*open);
        open.reset();
      }
      next_record = frame.header.ordinal + 1;
      pos = good_end = frame.next;
      continue;
    }
    if (!open) open = damage_starting_here();
    if (trusted && frame.check == FrameCheck::kBadPayload &&
        length_leads_on(ops_, log_fd_, frame.header, frame.next, file_bytes)) {
      next_record = frame.header.ordinal + 1;  // step over exactly this record
      pos = frame.next;
      continue;
    }
    if (trusted && frame.check == FrameCheck::kPastEnd) break;  // nothing can follow it
    // The header is damaged, or its length leads nowhere: resume at the next header that
    // checks out (a sync marker makes this a search for 4 bytes, not a try at every offset).
    const auto found = find_header(ops_, log_fd_, pos + 1, file_bytes, next_record, nullptr);
    if (!found) break;
    pos = found->offset;
  }
  if (open) next_record = open->first_record;  // a torn tail: its records were never whole
  records_.store(next_record);
  committed_bytes_.store(good_end);
  if (good_end < file_bytes) {
    out.torn_offset = good_end;
    out.torn_bytes = file_bytes - good_end;
    const std::string where = damaged_dir(dir_);
    const std::string copy =
        fresh_stem(ops_, where, seq_name(seq_) + "-at-" + std::to_string(good_end), {".torn"}) + ".torn";
    if (ensure_directory(ops_, where) && copy_range(ops_, log_fd_, good_end, out.torn_bytes, copy)) {
      out.torn_copy = copy;
      if (!ops_.truncate(log_fd_, good_end)) damaged_.store(true);
    } else {
      damaged_.store(true);  // the bytes stay in the segment, and the segment goes to damaged/
    }
  }
}

void Segment::recover_frames_v1(std::uint64_t file_bytes, Recovered& out) {
  std::uint64_t pos = kSegmentMagicV1.size();
  std::uint32_t records = 0;
  std::string payload;
  bool cut = false;  // whether the bytes from `pos` are a torn tail (else: kept, unread)
  while (pos < file_bytes && records < kMaxRecordsPerSegment) {
    const CheckedFrameV1 frame = check_frame_v1(ops_, log_fd_, pos, file_bytes, payload);
    if (frame.check == FrameCheck::kGood) {
      v1_offsets_.push_back(pos);
      pos = frame.next;
      ++records;
      continue;
    }
    if (frame.check == FrameCheck::kPastEnd || (frame.check == FrameCheck::kBadPayload && frame.next == file_bytes)) {
      cut = true;  // a torn tail: nothing follows it
      break;
    }
    if (frame.check == FrameCheck::kBadPayload &&
        check_frame_v1(ops_, log_fd_, frame.next, file_bytes, payload).check == FrameCheck::kGood) {
      // The length still leads to a frame that reads back: step over exactly this record.
      out.damage.push_back(Damage{.offset = pos,
                                  .bytes = frame.next - pos,
                                  .first_record = records,
                                  .records = 1,
                                  .records_known = true,
                                  .undelivered = 0});
      v1_offsets_.push_back(pos);
      pos = frame.next;
      ++records;
      continue;
    }
    // Without a sync marker the next frame cannot be found safely: keep the rest unread.
    out.damage.push_back(Damage{.offset = pos,
                                .bytes = file_bytes - pos,
                                .first_record = records,
                                .records = 0,
                                .records_known = false,
                                .undelivered = 0});
    break;
  }
  records_.store(records);
  committed_bytes_.store(pos);
  if (cut && pos < file_bytes) {
    out.torn_offset = pos;
    out.torn_bytes = file_bytes - pos;
    const std::string where = damaged_dir(dir_);
    const std::string copy =
        fresh_stem(ops_, where, seq_name(seq_) + "-at-" + std::to_string(pos), {".torn"}) + ".torn";
    if (ensure_directory(ops_, where) && copy_range(ops_, log_fd_, pos, out.torn_bytes, copy)) {
      out.torn_copy = copy;
      if (!ops_.truncate(log_fd_, pos)) damaged_.store(true);
    } else {
      damaged_.store(true);
    }
  }
}

bool Segment::check_acks(std::uint32_t could_exist, Recovered& out) {
  // Read with pread, not through a mapping: a bad sector under a mapping is a SIGBUS.
  std::string bits(kAckFileBytes, '\0');
  const auto size = ops_.size(acks_fd_);
  bool readable = size.ok();
  const auto present = static_cast<std::size_t>(std::min<std::uint64_t>(readable ? size.value() : 0, kAckFileBytes));
  readable = readable && read_all(ops_, acks_fd_, bits.data(), present, 0);
  bool beyond = false;
  for (std::size_t byte = could_exist / 8; readable && !beyond && byte < present; ++byte) {
    auto value = static_cast<std::uint8_t>(bits[byte]);
    if (byte == could_exist / 8) value = static_cast<std::uint8_t>(value >> (could_exist % 8));
    beyond = value != 0;
  }
  if (readable && !beyond) return false;
  // Not the bits this segment's appends and acks left: keep the file for inspection and start
  // from no bit set (every record is replayed; duplicates, never a loss).
  out.acks_cleared = true;
  const std::string acks = acks_path(dir_, seq_);
  const std::string where = damaged_dir(dir_);
  const std::string aside = fresh_stem(ops_, where, seq_name(seq_), {".acks.bad"}) + ".acks.bad";
  if (ensure_directory(ops_, where) && ops_.rename(acks, aside)) {
    if (auto fresh = ops_.open(acks, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC); fresh) {
      ops_.close(acks_fd_);
      acks_fd_ = fresh.value();
      out.acks_copy = aside;
      return false;
    }
    (void)ops_.rename(aside, acks);
  }
  // Cannot keep it: clear it in place. Truncating drops unreadable blocks (map_acks() sizes the
  // file back up with zeros); if even that fails, the caller clears the mapping.
  return !ops_.truncate(acks_fd_, 0);
}

bool Segment::full(std::uint64_t max_bytes) const {
  return records() >= kMaxRecordsPerSegment || committed_bytes() >= max_bytes;
}

Result<std::uint32_t> Segment::append(std::string_view payload) {
  const std::uint64_t offset = committed_bytes();
  const std::uint32_t ordinal = records();
  char header[kFrameHeaderBytes];
  encode_header(header, ordinal, payload);
  // One write per record: a crash leaves at most one torn frame, at the end.
  frame_.assign(header, sizeof(header));
  frame_.append(payload);
  if (auto written = write_all(ops_, log_fd_, frame_.data(), frame_.size(), offset); !written) {
    auto error = io_error("append to", log_path(dir_, seq_), written.error());
    if (!ops_.truncate(log_fd_, offset)) {
      // The torn frame stays; recovery will cut it. Appending after it would hide records.
      seal();
    }
    return error;
  }
  committed_bytes_.store(offset + frame_.size(), std::memory_order_release);
  records_.store(ordinal + 1, std::memory_order_release);
  if (frame_.capacity() > 4u * 1024 * 1024) frame_ = std::string();  // do not pin a huge record's buffer
  return ordinal;
}

Result<std::string_view> Segment::read(std::uint64_t offset, std::string& buffer, std::uint64_t& next_offset,
                                       std::uint32_t* record) const {
  const std::uint64_t end = committed_bytes();
  if (format_ == 1) {
    const CheckedFrameV1 frame = check_frame_v1(ops_, log_fd_, offset, end, buffer);
    if (frame.check != FrameCheck::kGood) return make_error(ErrorCode::kInternal, "spool: frame does not read back");
    next_offset = frame.next;
    return std::string_view(buffer);
  }
  const CheckedFrame frame = check_frame(ops_, log_fd_, offset, end, buffer);
  switch (frame.check) {
    case FrameCheck::kGood:
      next_offset = frame.next;
      if (record != nullptr) *record = frame.header.ordinal;
      return std::string_view(buffer);
    case FrameCheck::kBadHeader:
      return make_error(ErrorCode::kInternal, "spool: frame header does not check out");
    case FrameCheck::kPastEnd:
      return make_error(ErrorCode::kInternal, "spool: frame runs past the end");
    case FrameCheck::kBadPayload:
      break;
  }
  return make_error(ErrorCode::kInternal, "spool: payload does not read back (CRC mismatch or I/O error)");
}

std::optional<Segment::Damage> Segment::skip_damage(std::uint64_t offset, std::uint32_t ordinal, bool* known) {
  std::lock_guard lock(damage_mutex_);
  const auto before = std::find_if(damage_.begin(), damage_.end(),
                                   [&](const Damage& d) { return d.offset == offset && d.first_record == ordinal; });
  if (before != damage_.end()) {
    *known = true;
    Damage again = *before;
    again.undelivered = 0;  // its records were marked done when it was found
    return again;
  }
  *known = false;
  auto damage = find_damage_end(offset, ordinal);
  if (!damage) return std::nullopt;
  for (std::uint32_t i = 0; i < damage->records; ++i) {
    if (mark_done(damage->first_record + i)) ++damage->undelivered;
  }
  damage_.push_back(*damage);
  damaged_.store(true, std::memory_order_release);
  return damage;
}

std::optional<Segment::Damage> Segment::find_damage_end(std::uint64_t offset, std::uint32_t ordinal) {
  // Read `sealed` before the size: a segment sealed after its last append shows all of it.
  const bool sealed = this->sealed();
  const std::uint64_t end = committed_bytes();
  const std::uint32_t records = this->records();  // >= every record inside `end`
  const auto until = [&](std::uint64_t next, std::uint32_t next_record) {
    return Damage{.offset = offset,
                  .bytes = next - offset,
                  .first_record = ordinal,
                  .records = next_record - ordinal,
                  .records_known = true,
                  .undelivered = 0};
  };
  if (format_ == 1) {  // recovery noted where every record starts
    if (ordinal + 1 < v1_offsets_.size()) return until(v1_offsets_[ordinal + 1], ordinal + 1);
    return until(end, std::max(records, ordinal));
  }
  FrameHeader parsed;
  if (header_at(ops_, log_fd_, offset, end, parsed) && parsed.ordinal >= ordinal && parsed.ordinal < records &&
      offset + kFrameHeaderBytes + parsed.length <= end) {
    // Records missing before a frame (found so by recovery): a gap of no bytes.
    if (parsed.ordinal > ordinal) return until(offset, parsed.ordinal);
    const std::uint64_t next = offset + kFrameHeaderBytes + parsed.length;
    if (length_leads_on(ops_, log_fd_, parsed, next, end)) return until(next, ordinal + 1);  // only the payload
  }
  std::uint64_t from = search_from_offset_ == offset ? std::max(search_resume_, offset + 1) : offset + 1;
  for (;;) {
    std::uint64_t resume = 0;
    const auto found = find_header(ops_, log_fd_, from, end, ordinal + 1, &resume);
    if (found && found->header.ordinal < records && found->offset + kFrameHeaderBytes + found->header.length <= end) {
      search_from_offset_ = 0;
      return until(found->offset, found->header.ordinal);
    }
    if (found) {  // a header whose frame runs past the committed end is not one we wrote there
      from = found->offset + 1;
      continue;
    }
    if (sealed) {
      search_from_offset_ = 0;
      return until(end, std::max(records, ordinal));
    }
    search_from_offset_ = offset;
    search_resume_ = resume;
    return std::nullopt;
  }
}

bool Segment::mark_done(std::uint32_t ordinal) {
  if (ordinal >= kMaxRecordsPerSegment) return false;
  const auto bit = static_cast<std::uint8_t>(1u << (ordinal % 8));
  const auto before = std::atomic_ref<std::uint8_t>(acks_[ordinal / 8]).fetch_or(bit, std::memory_order_acq_rel);
  if ((before & bit) != 0) return false;
  done_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

bool Segment::is_done(std::uint32_t ordinal) const {
  if (ordinal >= kMaxRecordsPerSegment) return true;
  const auto bit = static_cast<std::uint8_t>(1u << (ordinal % 8));
  return (std::atomic_ref<std::uint8_t>(acks_[ordinal / 8]).load(std::memory_order_acquire) & bit) != 0;
}

Result<void> Segment::sync() {
  if (auto synced = ops_.sync_data(log_fd_); !synced) return io_error("sync", log_path(dir_, seq_), synced.error());
  return {};
}

void Segment::remove_files() {
  (void)ops_.unlink(log_path(dir_, seq_));
  (void)ops_.unlink(acks_path(dir_, seq_));
}

Result<std::string> Segment::set_aside() {
  const std::string where = damaged_dir(dir_);
  if (auto made = ensure_directory(ops_, where); !made) return made.error();
  const std::string stem = fresh_stem(ops_, where, seq_name(seq_), {".log", ".acks"});
  const std::string log = log_path(dir_, seq_), acks = acks_path(dir_, seq_);
  if (auto moved = ops_.rename(log, stem + ".log"); !moved) return io_error("move aside", log, moved.error());
  if (auto moved = ops_.rename(acks, stem + ".acks"); !moved) return io_error("move aside", acks, moved.error());
  return stem + ".log";
}

}  // namespace intake::spool
