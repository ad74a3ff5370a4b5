// Test helpers that damage spool files the way a disk or a crash would: flip bytes, cut a
// stretch out, cut the end off; and find where each format-2 frame starts (log_format.h).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "spool/log_format.h"

namespace intake::testing {

inline std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

// XORs `count` bytes from `offset` with 0xFF in place (through the page cache, so a reader
// with the file open sees it at once).
inline void flip_bytes(const std::string& path, std::uint64_t offset, std::size_t count = 1) {
  const int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  for (std::size_t i = 0; i < count; ++i) {
    char byte = 0;
    const auto at = static_cast<off_t>(offset + i);
    if (::pread(fd, &byte, 1, at) != 1) throw std::runtime_error("cannot read " + path);
    byte = static_cast<char>(byte ^ 0xFF);
    if (::pwrite(fd, &byte, 1, at) != 1) throw std::runtime_error("cannot write " + path);
  }
  ::close(fd);
}

// Removes bytes [from, to): everything after moves up.
inline void cut_out(const std::string& path, std::uint64_t from, std::uint64_t to) {
  std::string bytes = file_bytes(path);
  bytes.erase(from, to - from);
  write_file(path, bytes);
}

inline void cut_end(const std::string& path, std::uint64_t size) { std::filesystem::resize_file(path, size); }

// Where each frame of an undamaged format-2 segment starts, and (last element) its end.
inline std::vector<std::uint64_t> frame_offsets(const std::string& path) {
  const std::string bytes = file_bytes(path);
  std::vector<std::uint64_t> offsets;
  std::uint64_t pos = spool::kSegmentMagic.size();
  while (pos + spool::kFrameHeaderBytes <= bytes.size()) {
    offsets.push_back(pos);
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) {
      length |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[pos + 8 + i])) << (8 * i);
    }
    pos += spool::kFrameHeaderBytes + length;
  }
  offsets.push_back(pos);
  return offsets;
}

}  // namespace intake::testing
