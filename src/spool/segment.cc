#include "spool/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "spool/crc32c.h"
#include "spool/log_format.h"

namespace intake::spool {
namespace {

Error io_error(const std::string& what, const std::string& path, int err = errno) {
  // Out of disk is the operator's to fix; anything else is ours to report as it is.
  const ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::kSpoolFull : ErrorCode::kSpoolWriteFailed;
  return Error{code, "spool: cannot " + what + " " + path + ": " + std::strerror(err)};
}

void put_u32(char* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}

std::uint32_t get_u32(const char* in) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
  return value;
}

bool write_all(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t written = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
  return true;
}

// Reads exactly `size` bytes; false on error or end of file.
bool read_all(int fd, char* data, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

Result<void> sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("sync directory", dir, err);
  return {};
}

}  // namespace

std::string Segment::log_path(const std::string& dir, std::uint32_t seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "/%010u.log", seq);
  return dir + name;
}

std::string Segment::acks_path(const std::string& dir, std::uint32_t seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "/%010u.acks", seq);
  return dir + name;
}

Segment::Segment(std::string dir, std::uint32_t seq, int log_fd, int acks_fd, std::uint8_t* acks)
    : dir_(std::move(dir)), seq_(seq), log_fd_(log_fd), acks_fd_(acks_fd), acks_(acks) {}

Segment::~Segment() {
  if (acks_ != nullptr) ::munmap(acks_, kAckFileBytes);
  if (acks_fd_ >= 0) ::close(acks_fd_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

Result<std::uint8_t*> Segment::map_acks(int acks_fd, const std::string& path) {
  if (::ftruncate(acks_fd, static_cast<off_t>(kAckFileBytes)) != 0) return io_error("size", path);
  void* mapped = ::mmap(nullptr, kAckFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, acks_fd, 0);
  if (mapped == MAP_FAILED) return io_error("map", path);
  return static_cast<std::uint8_t*>(mapped);
}

Result<std::unique_ptr<Segment>> Segment::create(const std::string& dir, std::uint32_t seq, bool sync_dir) {
  const std::string log = log_path(dir, seq);
  const std::string acks = acks_path(dir, seq);
  const int log_fd = ::open(log.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (log_fd < 0) return io_error("create", log);
  const int acks_fd = ::open(acks.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (acks_fd < 0) {
    auto error = io_error("create", acks);
    ::close(log_fd);
    ::unlink(log.c_str());
    return error;
  }
  auto mapped = map_acks(acks_fd, acks);
  if (!mapped || !write_all(log_fd, kSegmentMagic.data(), kSegmentMagic.size(), 0)) {
    auto error = mapped ? io_error("write", log) : mapped.error();
    ::close(log_fd);
    ::close(acks_fd);
    ::unlink(log.c_str());
    ::unlink(acks.c_str());
    return error;
  }
  std::unique_ptr<Segment> segment(new Segment(dir, seq, log_fd, acks_fd, mapped.value()));
  segment->committed_bytes_.store(kSegmentMagic.size());
  if (sync_dir) {
    if (auto synced = sync_directory(dir); !synced) return synced.error();
  }
  return segment;
}

Result<Segment::Recovered> Segment::recover(const std::string& dir, std::uint32_t seq) {
  const std::string log = log_path(dir, seq);
  const std::string acks = acks_path(dir, seq);
  const int log_fd = ::open(log.c_str(), O_RDWR | O_CLOEXEC);
  if (log_fd < 0) return io_error("open", log);
  const int acks_fd = ::open(acks.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (acks_fd < 0) {
    auto error = io_error("open", acks);
    ::close(log_fd);
    return error;
  }
  auto mapped = map_acks(acks_fd, acks);
  if (!mapped) {
    ::close(log_fd);
    ::close(acks_fd);
    return mapped.error();
  }
  std::unique_ptr<Segment> segment(new Segment(dir, seq, log_fd, acks_fd, mapped.value()));
  struct stat info {};
  if (::fstat(log_fd, &info) != 0) return io_error("stat", log);
  const auto file_bytes = static_cast<std::uint64_t>(info.st_size);

  // Walk the frames; the first one that is short or fails its CRC ends the good part.
  std::uint64_t good_end = 0;
  std::uint32_t records = 0;
  char magic[8];
  if (file_bytes >= kSegmentMagic.size() && read_all(log_fd, magic, sizeof(magic), 0) &&
      std::string_view(magic, sizeof(magic)) == kSegmentMagic) {
    good_end = kSegmentMagic.size();
    std::string buffer;
    std::uint64_t next = 0;
    while (good_end < file_bytes && records < kMaxRecordsPerSegment) {
      segment->committed_bytes_.store(file_bytes);  // let read() look at the candidate frame
      if (!segment->read(good_end, buffer, next)) break;
      good_end = next;
      ++records;
    }
  }
  Recovered recovered;
  recovered.torn_bytes = file_bytes - good_end;
  if (good_end < kSegmentMagic.size()) {
    // Not even a whole magic: the process died while creating it. Rewrite an empty segment.
    if (::ftruncate(log_fd, 0) != 0 || !write_all(log_fd, kSegmentMagic.data(), kSegmentMagic.size(), 0)) {
      return io_error("rewrite", log);
    }
    good_end = kSegmentMagic.size();
  } else if (recovered.torn_bytes > 0 && ::ftruncate(log_fd, static_cast<off_t>(good_end)) != 0) {
    return io_error("truncate", log);
  }
  segment->committed_bytes_.store(good_end);
  segment->records_.store(records);
  std::uint32_t done = 0;
  for (std::uint32_t i = 0; i < records; ++i) done += segment->is_done(i) ? 1 : 0;
  segment->done_.store(done);
  segment->seal();
  recovered.segment = std::move(segment);
  return recovered;
}

bool Segment::full(std::uint64_t max_bytes) const {
  return records() >= kMaxRecordsPerSegment || committed_bytes() >= max_bytes;
}

Result<std::uint32_t> Segment::append(std::string_view payload) {
  const std::uint64_t offset = committed_bytes();
  char header[kFrameHeaderBytes];
  put_u32(header, static_cast<std::uint32_t>(payload.size()));
  put_u32(header + 4, crc32c(payload));
  // One write per record: a crash leaves at most one torn frame, at the end.
  frame_.assign(header, sizeof(header));
  frame_.append(payload);
  if (!write_all(log_fd_, frame_.data(), frame_.size(), offset)) {
    auto error = io_error("append to", log_path(dir_, seq_));
    if (::ftruncate(log_fd_, static_cast<off_t>(offset)) != 0) {
      // The torn frame stays; recovery will cut it. Appending after it would hide records.
      seal();
    }
    return error;
  }
  const std::uint32_t ordinal = records();
  committed_bytes_.store(offset + frame_.size(), std::memory_order_release);
  records_.store(ordinal + 1, std::memory_order_release);
  if (frame_.capacity() > 4u * 1024 * 1024) frame_ = std::string();  // do not pin a huge record's buffer
  return ordinal;
}

Result<std::string_view> Segment::read(std::uint64_t offset, std::string& buffer, std::uint64_t& next_offset) const {
  const std::uint64_t end = committed_bytes();
  char header[kFrameHeaderBytes];
  if (offset + kFrameHeaderBytes > end || !read_all(log_fd_, header, sizeof(header), offset)) {
    return make_error(ErrorCode::kInternal, "spool: short frame header");
  }
  const std::uint32_t length = get_u32(header);
  const std::uint32_t expected_crc = get_u32(header + 4);
  if (length > kMaxPayloadBytes || offset + kFrameHeaderBytes + length > end) {
    return make_error(ErrorCode::kInternal, "spool: frame runs past the end");
  }
  buffer.resize(length);
  if (!read_all(log_fd_, buffer.data(), length, offset + kFrameHeaderBytes)) {
    return make_error(ErrorCode::kInternal, "spool: short frame");
  }
  if (crc32c(buffer) != expected_crc) return make_error(ErrorCode::kInternal, "spool: CRC mismatch");
  next_offset = offset + kFrameHeaderBytes + length;
  return std::string_view(buffer);
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
  if (::fdatasync(log_fd_) != 0) return io_error("sync", log_path(dir_, seq_));
  return {};
}

void Segment::remove_files() {
  ::unlink(log_path(dir_, seq_).c_str());
  ::unlink(acks_path(dir_, seq_).c_str());
}

}  // namespace intake::spool
