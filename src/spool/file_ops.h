// FileOps: every file-system call the disk spool makes, behind one small interface, so that
// tests can make a write fail with ENOSPC or EIO, cut a write short or fail an fsync, and check
// what the spool promises then. PosixFileOps (posix_file_ops.h) is the real thing and the
// default; nothing else in the spool calls the operating system for its files.
//
// Failures are values: an Error whose os_errno is the call's errno, whose code is spool_full
// for a full disk or quota (ENOSPC, EDQUOT) and spool_write_failed otherwise, and whose message
// is strerror(errno). Callers add what they were doing and to which file. EINTR is retried
// inside the calls that can block on data (open, read, write, sync, truncate, lock).
// Implementations must be safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "error/result.h"

namespace intake::spool {

// The Error for a failed system call (see above).
Error os_error(int err);

class FileOps {
 public:
  virtual ~FileOps() = default;

  // open(2) with `flags` (O_*); returns the descriptor.
  virtual Result<int> open(const std::string& path, int flags, unsigned mode = 0640) = 0;
  virtual void close(int fd) = 0;
  // Takes the exclusive advisory lock on an open file without waiting (flock LOCK_EX|LOCK_NB).
  virtual Result<void> lock(int fd) = 0;

  // One pread(2): the bytes read, 0 at the end of the file.
  virtual Result<std::size_t> read_at(int fd, char* data, std::size_t size, std::uint64_t offset) = 0;
  // One pwrite(2): the bytes written, which may be fewer than `size` (a short write).
  virtual Result<std::size_t> write_at(int fd, const char* data, std::size_t size, std::uint64_t offset) = 0;
  // fdatasync(2): the file's data (not necessarily its metadata) is on disk.
  virtual Result<void> sync_data(int fd) = 0;
  // fsync(2), for directories: the entries created or renamed in it are on disk.
  virtual Result<void> sync(int fd) = 0;
  virtual Result<void> truncate(int fd, std::uint64_t size) = 0;
  virtual Result<std::uint64_t> size(int fd) = 0;

  // Maps `bytes` of the file, shared (stores reach the file without a system call).
  virtual Result<std::uint8_t*> map_shared(int fd, std::size_t bytes) = 0;
  virtual void unmap(std::uint8_t* mapping, std::size_t bytes) = 0;

  virtual Result<void> rename(const std::string& from, const std::string& to) = 0;
  virtual Result<void> unlink(const std::string& path) = 0;
  // True iff something exists at `path` (a dangling symlink counts).
  virtual bool exists(const std::string& path) = 0;
  // Creates the directory (mode 0750); succeeds if it exists already.
  virtual Result<void> make_directory(const std::string& path) = 0;
  // Creates the directory and any missing parents; succeeds if it exists already.
  virtual Result<void> make_directories(const std::string& path) = 0;
  // The names (not paths) of the entries in a directory, in no particular order.
  virtual Result<std::vector<std::string>> list_directory(const std::string& dir) = 0;
};

// The process's PosixFileOps: stateless, lives forever.
FileOps& posix_file_ops();

}  // namespace intake::spool
