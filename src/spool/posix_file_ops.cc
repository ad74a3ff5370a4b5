#include "spool/posix_file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace intake::spool {
namespace {

// Runs a call that returns -1 and sets errno on failure, again while it is interrupted.
template <typename Call>
auto retry_interrupted(Call call) {
  for (;;) {
    const auto rc = call();
    if (rc >= 0 || errno != EINTR) return rc;
  }
}

Result<void> done_or_errno(int rc) {
  if (rc != 0) return os_error(errno);
  return {};
}

}  // namespace

Error os_error(int err) {
  // Out of disk is the operator's to fix; anything else is ours to report as it is.
  const ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::kSpoolFull : ErrorCode::kSpoolWriteFailed;
  Error error{code, std::strerror(err)};
  error.os_errno = err;
  return error;
}

FileOps& posix_file_ops() {
  static PosixFileOps ops;
  return ops;
}

Result<int> PosixFileOps::open(const std::string& path, int flags, unsigned mode) {
  const int fd = retry_interrupted([&] { return ::open(path.c_str(), flags, static_cast<mode_t>(mode)); });
  if (fd < 0) return os_error(errno);
  return fd;
}

void PosixFileOps::close(int fd) { ::close(fd); }

Result<void> PosixFileOps::lock(int fd) {
  return done_or_errno(retry_interrupted([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }));
}

Result<std::size_t> PosixFileOps::read_at(int fd, char* data, std::size_t size, std::uint64_t offset) {
  const ssize_t got = retry_interrupted([&] { return ::pread(fd, data, size, static_cast<off_t>(offset)); });
  if (got < 0) return os_error(errno);
  return static_cast<std::size_t>(got);
}

Result<std::size_t> PosixFileOps::write_at(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  const ssize_t written = retry_interrupted([&] { return ::pwrite(fd, data, size, static_cast<off_t>(offset)); });
  if (written < 0) return os_error(errno);
  return static_cast<std::size_t>(written);
}

Result<void> PosixFileOps::sync_data(int fd) {
  return done_or_errno(retry_interrupted([&] { return ::fdatasync(fd); }));
}

Result<void> PosixFileOps::sync(int fd) {
  return done_or_errno(retry_interrupted([&] { return ::fsync(fd); }));
}

Result<void> PosixFileOps::truncate(int fd, std::uint64_t size) {
  return done_or_errno(retry_interrupted([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }));
}

Result<std::uint64_t> PosixFileOps::size(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return os_error(errno);
  return static_cast<std::uint64_t>(info.st_size);
}

Result<std::uint8_t*> PosixFileOps::map_shared(int fd, std::size_t bytes) {
  void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) return os_error(errno);
  return static_cast<std::uint8_t*>(mapped);
}

void PosixFileOps::unmap(std::uint8_t* mapping, std::size_t bytes) { ::munmap(mapping, bytes); }

Result<void> PosixFileOps::rename(const std::string& from, const std::string& to) {
  return done_or_errno(::rename(from.c_str(), to.c_str()));
}

Result<void> PosixFileOps::unlink(const std::string& path) { return done_or_errno(::unlink(path.c_str())); }

bool PosixFileOps::exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

Result<void> PosixFileOps::make_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) != 0 && errno != EEXIST) return os_error(errno);
  return {};
}

Result<void> PosixFileOps::make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return os_error(ec.value());
  return {};
}

Result<std::vector<std::string>> PosixFileOps::list_directory(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return os_error(ec.value());
  return names;
}

}  // namespace intake::spool
