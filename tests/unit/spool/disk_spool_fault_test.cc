// DiskSpool over a file system that fails: a full disk, an I/O error, a short write, a failed
// fdatasync, a segment that cannot be created, a rename that fails. In each case the append
// that failed tells its caller (so the client is told: no silent loss), nothing appended
// before is lost or damaged, the spool works again once the fault is gone, and a restart
// replays exactly the records that were accepted, none made up from a partial frame.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "faulty_file_ops.h"
#include "file_damage.h"
#include "spool/disk_spool.h"
#include "spool_fixtures.h"
#include "temp_dir.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Fsync = SpoolOptions::Fsync;

kafka::OutgoingRecord record(std::string_view value) { return testing::spool_record(value); }

std::vector<std::string> take_values(DiskSpool& spool) {
  std::vector<std::string> values;
  DiskSpool::Pending pending;
  while (spool.peek(pending)) {
    values.emplace_back(pending.record.value);
    spool.advance();
  }
  return values;
}

// Appends r<from>..r<to - 1>, each of which must succeed.
void append_range(DiskSpool& spool, int from, int to, std::vector<std::string>& accepted) {
  for (int i = from; i < to; ++i) {
    accepted.push_back("r" + std::to_string(i));
    ASSERT_TRUE(spool.append(record(accepted.back())));
  }
}

std::size_t log_files(const std::string& dir) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) count += entry.path().extension() == ".log" ? 1 : 0;
  return count;
}

TEST(DiskSpoolFaults, AFullDiskFailsTheAppendWithSpoolFullAndLosesNothingAppendedBefore) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  std::vector<std::string> accepted;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()), disk);
    append_range(spool, 0, 5, accepted);
    disk.fail_writes(ENOSPC);
    const auto refused = spool.append(record("refused"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kSpoolFull);
    EXPECT_EQ(refused.error().os_errno, ENOSPC);
    EXPECT_NE(refused.error().message.find(Segment::log_path(dir.path(), 1)), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(spool.stats().appended, 5u);
    EXPECT_EQ(disk.injected(), 1);

    // The disk has room again: appends work, and the refused record left nothing behind.
    append_range(spool, 5, 8, accepted);
    EXPECT_EQ(take_values(spool), accepted);
  }
  DiskSpool reopened(testing::spool_options_for(dir.path()));
  EXPECT_EQ(reopened.stats().recovered, accepted.size());
  EXPECT_EQ(reopened.stats().torn_bytes, 0u);
  EXPECT_EQ(reopened.stats().unreadable, 0u);
  EXPECT_EQ(take_values(reopened), accepted);
}

TEST(DiskSpoolFaults, AnIoErrorFailsTheAppendWithSpoolWriteFailedAndTheSpoolGoesOn) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  DiskSpool spool(testing::spool_options_for(dir.path()), disk);
  std::vector<std::string> accepted;
  append_range(spool, 0, 3, accepted);
  disk.fail_writes(EIO, /*skip=*/0, /*times=*/2);
  for (int i = 0; i < 2; ++i) {
    const auto refused = spool.append(record("refused"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kSpoolWriteFailed);
    EXPECT_EQ(refused.error().os_errno, EIO);
  }
  append_range(spool, 3, 6, accepted);
  EXPECT_EQ(take_values(spool), accepted);
  EXPECT_EQ(spool.stats().appended, accepted.size());
}

TEST(DiskSpoolFaults, AShortWriteIsCutBackAndLeavesNoFrameThatReplaysAsARecord) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  std::vector<std::string> accepted;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()), disk);
    append_range(spool, 0, 4, accepted);
    const auto size_before = fs::file_size(Segment::log_path(dir.path(), 1));
    // Half a frame header reaches the file, then the disk is full.
    disk.short_write(kFrameHeaderBytes / 2, ENOSPC);
    const auto refused = spool.append(record(std::string(500, 'x')));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kSpoolFull);
    EXPECT_EQ(fs::file_size(Segment::log_path(dir.path(), 1)), size_before);  // cut back at once
    append_range(spool, 4, 7, accepted);
    EXPECT_EQ(take_values(spool), accepted);
  }
  DiskSpool reopened(testing::spool_options_for(dir.path()));
  EXPECT_EQ(reopened.stats().torn_bytes, 0u);
  EXPECT_EQ(reopened.stats().unreadable, 0u);
  EXPECT_EQ(reopened.stats().damaged_regions, 0u);
  EXPECT_EQ(take_values(reopened), accepted);
}

TEST(DiskSpoolFaults, AShortWriteThatCannotBeCutBackIsATornTailAtTheNextStart) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  std::vector<std::string> accepted;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()), disk);
    append_range(spool, 0, 4, accepted);
    // Most of a frame reaches the file, the rest does not, and cutting it off fails too.
    disk.short_write(kFrameHeaderBytes + 100, EIO);
    disk.fail_truncates(EIO);
    const auto refused = spool.append(record(std::string(500, 'x')));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kSpoolWriteFailed);
    // The segment with the partial frame takes no more appends; the next ones go to a new one.
    append_range(spool, 4, 7, accepted);
    EXPECT_EQ(log_files(dir.path()), 2u);
    EXPECT_EQ(take_values(spool), accepted);
  }
  DiskSpool reopened(testing::spool_options_for(dir.path()));
  EXPECT_EQ(reopened.stats().torn_bytes, kFrameHeaderBytes + 100);
  EXPECT_EQ(reopened.stats().unreadable, 0u);
  EXPECT_EQ(reopened.stats().recovered, accepted.size());
  EXPECT_EQ(take_values(reopened), accepted);
  EXPECT_TRUE(fs::exists(dir.path() + "/" + std::string(kDamagedDir)));  // the torn bytes are kept
}

TEST(DiskSpoolFaults, AFailedFdatasyncIsReportedToTheAppenderAndTheNextOneCoversIt) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  auto settings = testing::spool_options_for(dir.path());
  settings.fsync = Fsync::kAlways;
  DiskSpool spool(settings, disk);
  ASSERT_TRUE(spool.append(record("r0")));
  const auto syncs = spool.stats().data_syncs;
  disk.fail_data_syncs(EIO);
  const auto refused = spool.append(record("unsynced"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kSpoolWriteFailed);
  EXPECT_EQ(refused.error().os_errno, EIO);
  EXPECT_NE(refused.error().message.find("cannot sync"), std::string::npos) << refused.error().message;
  EXPECT_EQ(spool.stats().data_syncs, syncs);

  ASSERT_TRUE(spool.append(record("r1")));
  EXPECT_EQ(spool.stats().data_syncs, syncs + 1);
  ASSERT_TRUE(spool.sync());
  // The record whose sync failed is in the segment (its client was told it may not be on disk
  // and may send it again: a duplicate, never a loss); the others are there, in order.
  const auto values = take_values(spool);
  EXPECT_EQ(values, (std::vector<std::string>{"r0", "unsynced", "r1"}));
}

TEST(DiskSpoolFaults, ASegmentThatCannotBeCreatedRefusesTheAppendAndLeavesTheSpoolReadable) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  std::vector<std::string> accepted;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()), disk);
    disk.fail_opens_of("0000000002.log", EIO);
    const std::string value(1000, 'v');
    Result<Ticket> appended = Ticket{0};
    while ((appended = spool.append(record(value + std::to_string(accepted.size()))))) {
      accepted.push_back(value + std::to_string(accepted.size()));
    }
    EXPECT_EQ(appended.error().code, ErrorCode::kSpoolWriteFailed);
    EXPECT_EQ(appended.error().os_errno, EIO);
    EXPECT_GT(accepted.size(), 50u);  // segment 1 filled up before the rotation failed
    // What is in the spool still reads back while no new segment can be had.
    const auto first = take_values(spool);
    EXPECT_EQ(first, accepted);

    // The next rotation works.
    accepted.push_back("after");
    ASSERT_TRUE(spool.append(record(accepted.back())));
    EXPECT_TRUE(fs::exists(Segment::log_path(dir.path(), 2)));
    EXPECT_EQ(take_values(spool), std::vector<std::string>{"after"});
  }
  DiskSpool reopened(testing::spool_options_for(dir.path()));
  EXPECT_EQ(reopened.stats().unreadable, 0u);
  EXPECT_EQ(take_values(reopened), accepted);
}

TEST(DiskSpoolFaults, AFailedDirectorySyncDuringRotationDoesNotStopLaterRotations) {
  testing::TempDir dir;
  testing::FaultyFileOps disk;
  auto settings = testing::spool_options_for(dir.path());
  settings.fsync = Fsync::kAlways;
  std::vector<std::string> accepted;
  {
    DiskSpool spool(settings, disk);
    append_range(spool, 0, 1, accepted);  // segment 1, its directory entry synced
    disk.fail_directory_syncs(EIO);       // segment 2's will fail
    const std::string value(1000, 'v');
    Result<Ticket> appended = Ticket{0};
    while ((appended = spool.append(record(value + std::to_string(accepted.size()))))) {
      accepted.push_back(value + std::to_string(accepted.size()));
    }
    EXPECT_EQ(appended.error().code, ErrorCode::kSpoolWriteFailed);
    EXPECT_NE(appended.error().message.find("sync directory"), std::string::npos) << appended.error().message;
    // Once the directory syncs again, so does the next segment.
    accepted.push_back("after");
    const auto after = spool.append(record(accepted.back()));
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(take_values(spool), accepted);
  }
  DiskSpool reopened(settings);
  EXPECT_EQ(reopened.stats().unreadable, 0u);
  EXPECT_EQ(reopened.stats().torn_bytes, 0u);
  EXPECT_EQ(take_values(reopened), accepted);
}

TEST(DiskSpoolFaults, ADamagedSegmentThatCannotBeMovedAsideStaysWhereItIsAndTheSpoolGoesOn) {
  testing::TempDir dir;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool.append(record("r" + std::to_string(i))));
  }
  const std::string first = Segment::log_path(dir.path(), 1);
  const auto frames = testing::frame_offsets(first);
  testing::flip_bytes(first, frames[4] + kFrameHeaderBytes);  // record 4's payload

  testing::FaultyFileOps disk;
  {
    DiskSpool spool(testing::spool_options_for(dir.path()), disk);
    EXPECT_EQ(spool.stats().unreadable, 1u);
    std::vector<Ticket> tickets;
    DiskSpool::Pending pending;
    while (spool.peek(pending)) {
      tickets.push_back(pending.ticket);
      spool.advance();
    }
    ASSERT_EQ(tickets.size(), 9u);
    disk.fail_renames(EIO, 0, 10);
    for (const auto ticket : tickets) spool.done(ticket);
    spool.maintain(0ms, true);  // would move the finished, damaged segment to damaged/
    EXPECT_GE(disk.injected(), 1);
    EXPECT_TRUE(fs::exists(first));  // a failed move deletes nothing
    disk.heal();
    ASSERT_TRUE(spool.append(record("new")));
    EXPECT_EQ(take_values(spool), std::vector<std::string>{"new"});
  }
  // The next start finds it finished and moves it aside then.
  DiskSpool reopened(testing::spool_options_for(dir.path()));
  EXPECT_FALSE(fs::exists(first));
  EXPECT_TRUE(fs::exists(dir.path() + "/" + std::string(kDamagedDir) + "/0000000001.log"));
  EXPECT_EQ(take_values(reopened), std::vector<std::string>{"new"});
}

}  // namespace
}  // namespace intake::spool
