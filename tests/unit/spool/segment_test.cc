// Segment files on a real temp directory: append and read back, recovery after a torn write or
// a corrupted record (only the damaged frames are lost, the bytes are kept), format-1 segments,
// and acks that survive reopening or are set aside when they cannot be the segment's.
#include "spool/segment.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "file_damage.h"
#include "spool/crc32c.h"
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

// Reads every record the way the spool's cursor does: what does not read back is stepped over
// with skip_damage().
std::vector<std::string> drain(Segment& segment) {
  std::vector<std::string> out;
  std::string buffer;
  std::uint64_t offset = kSegmentMagic.size(), next = 0;
  std::uint32_t ordinal = 0;
  while (offset < segment.committed_bytes()) {
    std::uint32_t record = ordinal;
    auto payload = segment.read(offset, buffer, next, &record);
    if (!payload || record != ordinal) {
      bool known = false;
      const auto damage = segment.skip_damage(offset, ordinal, &known);
      if (!damage) break;
      offset = damage->offset + damage->bytes;
      ordinal = damage->first_record + damage->records;
      continue;
    }
    out.emplace_back(payload.value());
    offset = next;
    ++ordinal;
  }
  return out;
}

std::vector<std::string> numbered(int count, std::initializer_list<int> except = {}) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) {
    if (std::find(except.begin(), except.end(), i) == except.end()) values.push_back("record-" + std::to_string(i));
  }
  return values;
}

void write_segment(const std::string& dir, std::uint32_t seq, int count) {
  auto segment = Segment::create(dir, seq, false);
  ASSERT_TRUE(segment);
  for (const auto& value : numbered(count)) ASSERT_TRUE(segment.value()->append(value));
}

// A format-1 file, as the gateway wrote before the sync marker: length | crc32c | payload.
std::string format_one(const std::vector<std::string>& values) {
  std::string bytes(kSegmentMagicV1);
  for (const auto& value : values) {
    const auto put = [&](std::uint32_t v) {
      for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
    };
    put(static_cast<std::uint32_t>(value.size()));
    put(crc32c(value));
    bytes += value;
  }
  return bytes;
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

TEST(Segment, RecoveryStepsOverExactlyTheFrameWhosePayloadIsDamaged) {
  testing::TempDir dir;
  write_segment(dir.path(), 1, 10);
  const std::string path = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(path);
  testing::flip_bytes(path, frames[4] + kFrameHeaderBytes + 3);  // inside record 4's payload
  const auto size_before = fs::file_size(path);

  auto recovered = Segment::recover(dir.path(), 1);
  ASSERT_TRUE(recovered);
  auto& segment = *recovered.value().segment;
  EXPECT_EQ(recovered.value().torn_bytes, 0u);
  ASSERT_EQ(recovered.value().damage.size(), 1u);
  const auto& damage = recovered.value().damage[0];
  EXPECT_EQ(damage.offset, frames[4]);
  EXPECT_EQ(damage.bytes, frames[5] - frames[4]);
  EXPECT_EQ(damage.first_record, 4u);
  EXPECT_EQ(damage.records, 1u);
  EXPECT_EQ(damage.undelivered, 1u);
  EXPECT_EQ(segment.records(), 10u);
  EXPECT_TRUE(segment.is_done(4));
  EXPECT_EQ(segment.done_records(), 1u);
  EXPECT_TRUE(segment.damaged());
  EXPECT_EQ(drain(segment), numbered(10, {4}));
  EXPECT_EQ(fs::file_size(path), size_before);  // nothing cut
}

TEST(Segment, RecoveryResyncsOnTheNextSyncMarkerAfterADamagedHeader) {
  testing::TempDir dir;
  write_segment(dir.path(), 1, 10);
  const std::string path = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(path);
  testing::flip_bytes(path, frames[6] + 9);  // record 6's length: the header no longer checks out

  auto recovered = Segment::recover(dir.path(), 1);
  ASSERT_TRUE(recovered);
  ASSERT_EQ(recovered.value().damage.size(), 1u);
  EXPECT_EQ(recovered.value().damage[0].offset, frames[6]);
  EXPECT_EQ(recovered.value().damage[0].bytes, frames[7] - frames[6]);
  EXPECT_EQ(recovered.value().damage[0].records, 1u);
  EXPECT_EQ(recovered.value().torn_bytes, 0u);
  EXPECT_EQ(drain(*recovered.value().segment), numbered(10, {6}));
}

TEST(Segment, RecoveryCountsTheRecordsInAStretchCutOutOfTheMiddle) {
  testing::TempDir dir;
  write_segment(dir.path(), 1, 12);
  const std::string path = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(path);
  // From inside record 3's payload to inside record 5's: 3, 4 and 5 are gone, 6 moves up.
  testing::cut_out(path, frames[3] + kFrameHeaderBytes + 2, frames[5] + kFrameHeaderBytes + 2);

  auto recovered = Segment::recover(dir.path(), 1);
  ASSERT_TRUE(recovered);
  ASSERT_EQ(recovered.value().damage.size(), 1u);
  EXPECT_EQ(recovered.value().damage[0].first_record, 3u);
  EXPECT_EQ(recovered.value().damage[0].records, 3u);
  EXPECT_EQ(recovered.value().torn_bytes, 0u);
  EXPECT_EQ(recovered.value().segment->records(), 12u);
  EXPECT_EQ(drain(*recovered.value().segment), numbered(12, {3, 4, 5}));
}

TEST(Segment, ATornTailIsCopiedToDamagedBeforeItIsCut) {
  testing::TempDir dir;
  write_segment(dir.path(), 2, 5);
  const std::string path = Segment::log_path(dir.path(), 2);
  const auto frames = testing::frame_offsets(path);
  testing::cut_end(path, frames[4] + 7);  // the last frame ends mid-header
  const std::string tail = testing::file_bytes(path).substr(frames[4]);

  auto recovered = Segment::recover(dir.path(), 2);
  ASSERT_TRUE(recovered);
  EXPECT_TRUE(recovered.value().damage.empty());
  EXPECT_EQ(recovered.value().torn_offset, frames[4]);
  EXPECT_EQ(recovered.value().torn_bytes, 7u);
  EXPECT_EQ(fs::file_size(path), frames[4]);
  ASSERT_FALSE(recovered.value().torn_copy.empty());
  EXPECT_EQ(testing::file_bytes(recovered.value().torn_copy), tail);
  EXPECT_FALSE(recovered.value().segment->damaged());  // what is left reads back whole
  EXPECT_EQ(drain(*recovered.value().segment), numbered(4));
}

TEST(Segment, ReadingSkipsALiveDamagedFrameAndTheSegmentRemembersIt) {
  testing::TempDir dir;
  auto created = Segment::create(dir.path(), 1, false);
  ASSERT_TRUE(created);
  auto& segment = *created.value();
  for (const auto& value : numbered(8)) ASSERT_TRUE(segment.append(value));
  const std::string path = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(path);
  testing::flip_bytes(path, frames[2] + 1);                  // record 2's sync marker
  testing::flip_bytes(path, frames[3] + kFrameHeaderBytes);  // record 3's payload

  // Still being written to: the damage is followed by whole frames, so it is found now.
  EXPECT_EQ(drain(segment), numbered(8, {2, 3}));
  EXPECT_TRUE(segment.is_done(2));
  EXPECT_TRUE(segment.is_done(3));
  EXPECT_TRUE(segment.damaged());
  bool known = false;
  const auto again = segment.skip_damage(frames[2], 2, &known);
  ASSERT_TRUE(again);
  EXPECT_TRUE(known);
  EXPECT_EQ(again->undelivered, 0u);
}

TEST(Segment, DamageAtTheEndOfASegmentStillWrittenToWaitsForTheNextFrame) {
  testing::TempDir dir;
  auto created = Segment::create(dir.path(), 1, false);
  ASSERT_TRUE(created);
  auto& segment = *created.value();
  for (const auto& value : numbered(3)) ASSERT_TRUE(segment.append(value));
  const std::string path = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(path);
  testing::flip_bytes(path, frames[2] + 2);  // the last record's header

  bool known = false;
  EXPECT_FALSE(segment.skip_damage(frames[2], 2, &known));  // nothing after it yet
  ASSERT_TRUE(segment.append("after"));
  const auto damage = segment.skip_damage(frames[2], 2, &known);
  ASSERT_TRUE(damage);
  EXPECT_FALSE(known);
  EXPECT_EQ(damage->offset + damage->bytes, frames[3]);
  EXPECT_EQ(damage->records, 1u);
}

TEST(Segment, ARecoveredFormatOneSegmentIsReplayedAndStepsOverADamagedPayload) {
  testing::TempDir dir;
  const std::string path = Segment::log_path(dir.path(), 4);
  const auto values = numbered(6);
  testing::write_file(path, format_one(values));
  // Record 2's payload: its length still leads to record 3, so exactly record 2 is lost.
  std::uint64_t offset = kSegmentMagicV1.size();
  for (int i = 0; i < 2; ++i) offset += kFrameHeaderBytesV1 + values[static_cast<std::size_t>(i)].size();
  testing::flip_bytes(path, offset + kFrameHeaderBytesV1 + 1);

  auto recovered = Segment::recover(dir.path(), 4);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(recovered.value().format, 1u);
  ASSERT_EQ(recovered.value().damage.size(), 1u);
  EXPECT_EQ(recovered.value().damage[0].first_record, 2u);
  EXPECT_EQ(recovered.value().damage[0].records, 1u);
  EXPECT_EQ(recovered.value().segment->records(), 6u);
  EXPECT_EQ(drain(*recovered.value().segment), numbered(6, {2}));
}

TEST(Segment, AFormatOneSegmentWhoseNextFrameCannotBeFoundKeepsItsRestOnDisk) {
  testing::TempDir dir;
  const std::string path = Segment::log_path(dir.path(), 4);
  const auto values = numbered(6);
  testing::write_file(path, format_one(values));
  const auto size = fs::file_size(path);
  std::uint64_t offset = kSegmentMagicV1.size();
  for (int i = 0; i < 3; ++i) offset += kFrameHeaderBytesV1 + values[static_cast<std::size_t>(i)].size();
  testing::flip_bytes(path, offset + 3);  // record 3's length: format 1 cannot find record 4

  auto recovered = Segment::recover(dir.path(), 4);
  ASSERT_TRUE(recovered);
  ASSERT_EQ(recovered.value().damage.size(), 1u);
  EXPECT_FALSE(recovered.value().damage[0].records_known);
  EXPECT_EQ(recovered.value().damage[0].bytes, size - offset);
  EXPECT_EQ(recovered.value().torn_bytes, 0u);
  EXPECT_EQ(fs::file_size(path), size);  // not cut
  EXPECT_TRUE(recovered.value().segment->damaged());
  EXPECT_EQ(drain(*recovered.value().segment), numbered(3));
}

TEST(Segment, ASegmentWithADamagedMagicIsStillReadAsFormatTwo) {
  testing::TempDir dir;
  write_segment(dir.path(), 1, 4);
  const std::string path = Segment::log_path(dir.path(), 1);
  testing::flip_bytes(path, 2);
  auto recovered = Segment::recover(dir.path(), 1);
  ASSERT_TRUE(recovered);
  ASSERT_TRUE(recovered.value().segment);
  EXPECT_TRUE(recovered.value().segment->damaged());
  EXPECT_EQ(drain(*recovered.value().segment), numbered(4));
}

TEST(Segment, AFileThatIsNoSegmentIsMovedAsideWhole) {
  testing::TempDir dir;
  const std::string path = Segment::log_path(dir.path(), 3);
  const std::string junk = "this is not a spool segment at all";
  testing::write_file(path, junk);
  auto recovered = Segment::recover(dir.path(), 3);
  ASSERT_TRUE(recovered);
  EXPECT_FALSE(recovered.value().segment);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(recovered.value().set_aside_to, dir.path() + "/damaged/0000000003.log");
  EXPECT_EQ(testing::file_bytes(recovered.value().set_aside_to), junk);
}

TEST(Segment, AckBitsForRecordsThatCannotExistAreSetAsideAndEveryRecordReplayed) {
  testing::TempDir dir;
  {
    auto segment = Segment::create(dir.path(), 5, false);
    ASSERT_TRUE(segment);
    for (const auto& value : numbered(10)) ASSERT_TRUE(segment.value()->append(value));
    EXPECT_TRUE(segment.value()->mark_done(1));
    EXPECT_TRUE(segment.value()->mark_done(2));
  }
  const std::string acks = Segment::acks_path(dir.path(), 5);
  testing::flip_bytes(acks, 4096);  // bits of records 32768..32775 in a 10-record segment
  const std::string before = testing::file_bytes(acks);

  auto recovered = Segment::recover(dir.path(), 5);
  ASSERT_TRUE(recovered);
  EXPECT_TRUE(recovered.value().acks_cleared);
  EXPECT_EQ(recovered.value().acks_copy, dir.path() + "/damaged/0000000005.acks.bad");
  EXPECT_EQ(testing::file_bytes(recovered.value().acks_copy), before);
  const auto& segment = *recovered.value().segment;
  EXPECT_EQ(segment.done_records(), 0u);
  EXPECT_FALSE(segment.is_done(1));
}

TEST(Segment, AnAcksFileThatLostItsContentReplaysInsteadOfSkipping) {
  testing::TempDir dir;
  {
    auto segment = Segment::create(dir.path(), 6, false);
    ASSERT_TRUE(segment);
    for (const auto& value : numbered(10)) ASSERT_TRUE(segment.value()->append(value));
    for (std::uint32_t i = 0; i < 10; ++i) segment.value()->mark_done(i);
  }
  fs::resize_file(Segment::acks_path(dir.path(), 6), 0);
  auto recovered = Segment::recover(dir.path(), 6);
  ASSERT_TRUE(recovered);
  EXPECT_FALSE(recovered.value().acks_cleared);  // nothing wrong to see: the bits are just gone
  EXPECT_EQ(recovered.value().segment->done_records(), 0u);
  EXPECT_FALSE(recovered.value().segment->finished());
}

}  // namespace
}  // namespace intake::spool
