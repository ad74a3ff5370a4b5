// PosixFileOps: FileOps (file_ops.h) as the operating system's calls themselves.
#pragma once

#include "spool/file_ops.h"

namespace intake::spool {

class PosixFileOps final : public FileOps {
 public:
  Result<int> open(const std::string& path, int flags, unsigned mode) override;
  void close(int fd) override;
  Result<void> lock(int fd) override;
  Result<std::size_t> read_at(int fd, char* data, std::size_t size, std::uint64_t offset) override;
  Result<std::size_t> write_at(int fd, const char* data, std::size_t size, std::uint64_t offset) override;
  Result<void> sync_data(int fd) override;
  Result<void> sync(int fd) override;
  Result<void> truncate(int fd, std::uint64_t size) override;
  Result<std::uint64_t> size(int fd) override;
  Result<std::uint8_t*> map_shared(int fd, std::size_t bytes) override;
  void unmap(std::uint8_t* mapping, std::size_t bytes) override;
  Result<void> rename(const std::string& from, const std::string& to) override;
  Result<void> unlink(const std::string& path) override;
  bool exists(const std::string& path) override;
  Result<void> make_directory(const std::string& path) override;
  Result<void> make_directories(const std::string& path) override;
  Result<std::vector<std::string>> list_directory(const std::string& dir) override;
};

}  // namespace intake::spool
