// FaultyFileOps: the spool's FileOps with faults on request, the way a disk or a file system
// fails: the Nth write fails with ENOSPC or EIO, a write stops short, fdatasync or a
// directory fsync fails, opening a given file fails, a rename or a truncate fails. Every call
// without a fault pending goes to the real PosixFileOps. Safe from any thread.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "spool/file_ops.h"
#include "spool/posix_file_ops.h"

namespace intake::testing {

class FaultyFileOps final : public spool::FileOps {
 public:
  // Lets `skip` writes through, then fails the next `times` with `err`.
  void fail_writes(int err, int skip = 0, int times = 1) {
    std::lock_guard lock(mutex_);
    write_fault_ = Fault{.err = err, .skip = skip, .times = times};
  }
  // The next write stores only its first `bytes` bytes and reports that (a short write); the
  // one after fails with `then_err`, as when the disk fills up in the middle of a record.
  void short_write(std::size_t bytes, int then_err = ENOSPC) {
    std::lock_guard lock(mutex_);
    short_write_bytes_ = bytes;
    short_write_pending_ = true;
    write_fault_ = Fault{.err = then_err, .skip = 0, .times = 1};
  }
  void fail_data_syncs(int err, int skip = 0, int times = 1) {
    std::lock_guard lock(mutex_);
    data_sync_fault_ = Fault{.err = err, .skip = skip, .times = times};
  }
  // fsync(2) of a directory (after a segment is created).
  void fail_directory_syncs(int err, int skip = 0, int times = 1) {
    std::lock_guard lock(mutex_);
    directory_sync_fault_ = Fault{.err = err, .skip = skip, .times = times};
  }
  // Opening a path that ends with `suffix` fails with `err`, `times` times.
  void fail_opens_of(std::string suffix, int err, int times = 1) {
    std::lock_guard lock(mutex_);
    open_suffix_ = std::move(suffix);
    open_fault_ = Fault{.err = err, .skip = 0, .times = times};
  }
  void fail_renames(int err, int skip = 0, int times = 1) {
    std::lock_guard lock(mutex_);
    rename_fault_ = Fault{.err = err, .skip = skip, .times = times};
  }
  void fail_truncates(int err, int skip = 0, int times = 1) {
    std::lock_guard lock(mutex_);
    truncate_fault_ = Fault{.err = err, .skip = skip, .times = times};
  }
  // Every pending fault off: the file system works again.
  void heal() {
    std::lock_guard lock(mutex_);
    write_fault_ = data_sync_fault_ = directory_sync_fault_ = open_fault_ = rename_fault_ = truncate_fault_ = Fault{};
    short_write_pending_ = false;
  }
  // How many faults were injected so far.
  int injected() const {
    std::lock_guard lock(mutex_);
    return injected_;
  }

  Result<int> open(const std::string& path, int flags, unsigned mode) override {
    bool matches = false;
    {
      std::lock_guard lock(mutex_);
      matches = !open_suffix_.empty() && path.ends_with(open_suffix_);
    }
    if (matches) {
      if (auto failed = take(open_fault_)) return spool::os_error(failed);
    }
    return real_.open(path, flags, mode);
  }
  void close(int fd) override { real_.close(fd); }
  Result<void> lock(int fd) override { return real_.lock(fd); }
  Result<std::size_t> read_at(int fd, char* data, std::size_t size, std::uint64_t offset) override {
    return real_.read_at(fd, data, size, offset);
  }
  Result<std::size_t> write_at(int fd, const char* data, std::size_t size, std::uint64_t offset) override {
    {
      std::lock_guard lock(mutex_);
      if (short_write_pending_) {
        short_write_pending_ = false;
        ++injected_;
        const std::size_t bytes = std::min(size, short_write_bytes_);
        return real_.write_at(fd, data, bytes, offset);
      }
    }
    if (auto failed = take(write_fault_)) return spool::os_error(failed);
    return real_.write_at(fd, data, size, offset);
  }
  Result<void> sync_data(int fd) override {
    if (auto failed = take(data_sync_fault_)) return spool::os_error(failed);
    return real_.sync_data(fd);
  }
  Result<void> sync(int fd) override {
    if (auto failed = take(directory_sync_fault_)) return spool::os_error(failed);
    return real_.sync(fd);
  }
  Result<void> truncate(int fd, std::uint64_t size) override {
    if (auto failed = take(truncate_fault_)) return spool::os_error(failed);
    return real_.truncate(fd, size);
  }
  Result<std::uint64_t> size(int fd) override { return real_.size(fd); }
  Result<std::uint8_t*> map_shared(int fd, std::size_t bytes) override { return real_.map_shared(fd, bytes); }
  void unmap(std::uint8_t* mapping, std::size_t bytes) override { real_.unmap(mapping, bytes); }
  Result<void> rename(const std::string& from, const std::string& to) override {
    if (auto failed = take(rename_fault_)) return spool::os_error(failed);
    return real_.rename(from, to);
  }
  Result<void> unlink(const std::string& path) override { return real_.unlink(path); }
  bool exists(const std::string& path) override { return real_.exists(path); }
  Result<void> make_directory(const std::string& path) override { return real_.make_directory(path); }
  Result<void> make_directories(const std::string& path) override { return real_.make_directories(path); }
  Result<std::vector<std::string>> list_directory(const std::string& dir) override { return real_.list_directory(dir); }

 private:
  struct Fault {
    int err = 0;
    int skip = 0;   // calls to let through first
    int times = 0;  // calls to fail after those
  };

  // The errno to fail this call with, or 0 to let it through.
  int take(Fault& fault) {
    std::lock_guard lock(mutex_);
    if (fault.times <= 0) return 0;
    if (fault.skip > 0) {
      --fault.skip;
      return 0;
    }
    --fault.times;
    ++injected_;
    return fault.err;
  }

  spool::PosixFileOps real_;
  mutable std::mutex mutex_;
  Fault write_fault_, data_sync_fault_, directory_sync_fault_, open_fault_, rename_fault_, truncate_fault_;
  std::string open_suffix_;
  bool short_write_pending_ = false;
  std::size_t short_write_bytes_ = 0;
  int injected_ = 0;
};

}  // namespace intake::testing
