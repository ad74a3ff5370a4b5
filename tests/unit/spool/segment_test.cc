// Segment files on a real temp directory: append and read back, recovery after a torn write or
// a corrupted record, and acks that survive reopening.
#include "spool/segment.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "spool/log_format.h"
#include "temp_dir.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> read_all(const Segment& segment) {
  std::vector<std::string> out;
  std::string buffer;
  std::uint64_t offset = kSegmentMagic.size(), next = 0;
  while (offset < segment.committed_bytes()) {
    auto payload = segment.read(offset, buffer, next);
    if (!payload) break;
    out.emplace_back(payload.value());
    offset = next;
  }
  return out;
}

void append_raw(const std::string& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::app);
  file << bytes;
}

TEST(Segment, AppendsAndReadsBackInOrder) {
  testing::TempDir dir;
  auto segment = Segment::create(dir.path(), 1, false);
  ASSERT_TRUE(segment);
  for (int i = 0; i < 100; ++i) {
    auto ordinal = segment.value()->append("record-" + std::to_string(i));
    ASSERT_TRUE(ordinal);
    EXPECT_EQ(ordinal.value(), static_cast<std::uint32_t>(i));
  }
  const auto records = read_all(*segment.value());
  ASSERT_EQ(records.size(), 100u);
  EXPECT_EQ(records.front(), "record-0");
  EXPECT_EQ(records.back(), "record-99");
  EXPECT_EQ(segment.value()->records(), 100u);
}

TEST(Segment, RecoveryCutsATornTailAndKeepsTheWholeRecords) {
  testing::TempDir dir;
  {
    auto segment = Segment::create(dir.path(), 7, false);
    ASSERT_TRUE(segment);
    for (const char* value : {"a", "bb", "ccc"}) ASSERT_TRUE(segment.value()->append(value));
  }
  // A frame header that promises 100 bytes, followed by only 10: the process died mid-write.
  const std::string path = Segment::log_path(dir.path(), 7);
  const auto whole_size = fs::file_size(path);
  append_raw(path, std::string("\x64\x00\x00\x00\x01\x02\x03\x04", 8) + std::string(10, 'x'));

  auto recovered = Segment::recover(dir.path(), 7);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered.value().torn_bytes, 18u);
  EXPECT_EQ(recovered.value().segment->records(), 3u);
  EXPECT_EQ(read_all(*recovered.value().segment), (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_EQ(fs::file_size(path), whole_size);
  EXPECT_TRUE(recovered.value().segment->sealed());
}

TEST(Segment, RecoveryStopsAtARecordWhoseCrcDoesNotMatch) {
  testing::TempDir dir;
  {
    auto segment = Segment::create(dir.path(), 1, false);
    ASSERT_TRUE(segment);
    for (const char* value : {"first", "second", "third"}) ASSERT_TRUE(segment.value()->append(value));
  }
  // Flip the last byte of the file: the third record's payload.
  const std::string path = Segment::log_path(dir.path(), 1);
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const auto size = static_cast<off_t>(fs::file_size(path));
  char last = 0;
  ASSERT_EQ(::pread(fd, &last, 1, size - 1), 1);
  last = static_cast<char>(last ^ 0x20);
  ASSERT_EQ(::pwrite(fd, &last, 1, size - 1), 1);
  ::close(fd);

  auto recovered = Segment::recover(dir.path(), 1);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered.value().segment->records(), 2u);
  EXPECT_EQ(recovered.value().torn_bytes, kFrameHeaderBytes + 5);
}

TEST(Segment, AcksSurviveReopeningWithoutASync) {
  testing::TempDir dir;
  {
    auto segment = Segment::create(dir.path(), 3, false);
    ASSERT_TRUE(segment);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(segment.value()->append("r" + std::to_string(i)));
    EXPECT_TRUE(segment.value()->mark_done(1));
    EXPECT_FALSE(segment.value()->mark_done(1));  // idempotent
    EXPECT_TRUE(segment.value()->mark_done(17));
  }
  auto recovered = Segment::recover(dir.path(), 3);
  ASSERT_TRUE(recovered);
  const auto& segment = *recovered.value().segment;
  EXPECT_EQ(segment.records(), 20u);
  EXPECT_EQ(segment.done_records(), 2u);
  EXPECT_TRUE(segment.is_done(1));
  EXPECT_TRUE(segment.is_done(17));
  EXPECT_FALSE(segment.is_done(2));
  EXPECT_FALSE(segment.finished());
}

TEST(Segment, AFileWithoutAWholeMagicRecoversEmpty) {
  testing::TempDir dir;
  append_raw(Segment::log_path(dir.path(), 2), "INT");
  auto recovered = Segment::recover(dir.path(), 2);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered.value().segment->records(), 0u);
  EXPECT_TRUE(recovered.value().segment->finished());
}

}  // namespace
}  // namespace intake::spool
