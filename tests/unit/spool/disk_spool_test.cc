// DiskSpool on a real temp directory: order, segment deletion only after every record is done,
// restart with leftovers, torn tails, the size bound, the directory lock, and sealing while
// records are appended.
#include "spool/disk_spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "spool_fixtures.h"
#include "temp_dir.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::spool_options_for;
using testing::spool_record;

// Takes every waiting record: (ticket, value) in the order the spool gives them.
std::vector<std::pair<Ticket, std::string>> take_all(DiskSpool& spool) {
  std::vector<std::pair<Ticket, std::string>> taken;
  DiskSpool::Pending pending;
  while (spool.peek(pending)) {
    taken.emplace_back(pending.ticket, std::string(pending.record.value));
    spool.advance();
  }
  return taken;
}

std::size_t log_files(const std::string& dir) {
  std::size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) count += entry.path().extension() == ".log" ? 1 : 0;
  return count;
}

TEST(DiskSpool, RecordsComeOutInTheOrderTheyWentIn) {
  testing::TempDir dir;
  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_FALSE(spool.has_backlog());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
  EXPECT_TRUE(spool.has_backlog());
  const auto taken = take_all(spool);
  ASSERT_EQ(taken.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(taken[static_cast<std::size_t>(i)].second, "r" + std::to_string(i));
  EXPECT_FALSE(spool.has_backlog());
  EXPECT_EQ(spool.stats().appended, 50u);
}

TEST(DiskSpool, ASegmentIsDeletedOnlyAfterEveryRecordInItIsDone) {
  testing::TempDir dir;
  DiskSpool spool(spool_options_for(dir.path()));
  const std::string value(1000, 'v');
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(spool.append(spool_record(value)));  // ~200 KB: several 64 KiB segments
  const auto segments_before = log_files(dir.path());
  ASSERT_GE(segments_before, 3u);
  const auto taken = take_all(spool);
  ASSERT_EQ(taken.size(), 200u);

  // Everything but the very first record is delivered: the first segment must stay.
  for (std::size_t i = 1; i < taken.size(); ++i) spool.done(taken[i].first);
  spool.maintain(0ms, true);
  EXPECT_TRUE(fs::exists(Segment::log_path(dir.path(), 1)));
  EXPECT_LT(log_files(dir.path()), segments_before);

  spool.done(taken[0].first);
  spool.maintain(0ms, true);
  EXPECT_FALSE(fs::exists(Segment::log_path(dir.path(), 1)));
  EXPECT_EQ(log_files(dir.path()), 0u);
  EXPECT_EQ(spool.stats().bytes, 0u);
  EXPECT_EQ(spool.stats().done, 200u);
}

TEST(DiskSpool, ARestartReplaysWhatWasNotDoneAndNothingThatWas) {
  testing::TempDir dir;
  {
    DiskSpool spool(spool_options_for(dir.path()));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
    const auto taken = take_all(spool);
    for (const int delivered : {0, 2, 5, 7}) spool.done(taken[static_cast<std::size_t>(delivered)].first);
  }  // the process "stops" here with six records undelivered
  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().recovered, 6u);
  EXPECT_TRUE(spool.has_backlog());
  std::vector<std::string> values;
  for (const auto& [ticket, value] : take_all(spool)) values.push_back(value);
  EXPECT_EQ(values, (std::vector<std::string>{"r1", "r3", "r4", "r6", "r8", "r9"}));
  // New records go after the leftovers.
  ASSERT_TRUE(spool.append(spool_record("new")));
  const auto next = take_all(spool);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second, "new");
}

TEST(DiskSpool, ATornTailFromACrashIsSkippedAndCounted) {
  testing::TempDir dir;
  {
    DiskSpool spool(spool_options_for(dir.path()));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool.append(spool_record("whole-" + std::to_string(i))));
  }
  {
    std::ofstream file(Segment::log_path(dir.path(), 1), std::ios::binary | std::ios::app);
    file << std::string("\xff\x00\x00\x00garbage", 11);
  }
  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_GT(spool.stats().torn_bytes, 0u);
  std::vector<std::string> values;
  for (const auto& [ticket, value] : take_all(spool)) values.push_back(value);
  EXPECT_EQ(values, (std::vector<std::string>{"whole-0", "whole-1", "whole-2"}));
}

TEST(DiskSpool, RefusesWithSpoolFullPastMaxBytes) {
  testing::TempDir dir;
  auto settings = spool_options_for(dir.path());
  settings.max_bytes = 1024 * 1024;
  DiskSpool spool(settings);
  const std::string value(10 * 1024, 'x');
  int accepted = 0;
  Result<Ticket> last = Ticket{0};
  while ((last = spool.append(spool_record(value)))) ++accepted;
  EXPECT_EQ(last.error().code, ErrorCode::kSpoolFull);
  EXPECT_NE(last.error().message.find("spool is full"), std::string::npos);
  EXPECT_GT(accepted, 90);
  EXPECT_LE(spool.stats().bytes, settings.max_bytes);
  // A record that was already accepted (a failed delivery coming back) is kept past the bound.
  EXPECT_TRUE(spool.append(spool_record(value), DiskSpool::Admission::kAccepted));
  EXPECT_GT(spool.stats().bytes, settings.max_bytes);
  // Once records are delivered and their segments go, there is room again.
  for (const auto& [ticket, value_taken] : take_all(spool)) spool.done(ticket);
  spool.maintain(0ms, true);
  EXPECT_TRUE(spool.append(spool_record(value)));
}

TEST(DiskSpool, ADirectoryServesOneProcessAtATime) {
  testing::TempDir dir;
  DiskSpool first(spool_options_for(dir.path()));
  EXPECT_THROW(DiskSpool second(spool_options_for(dir.path())), std::runtime_error);
}

// A close and reopen in one process reads the page cache, so "every record is back" cannot tell
// the fsync modes apart; the spool's count of data syncs can.
TEST(DiskSpool, FsyncAlwaysSyncsEachAppendBeforeItReturns) {
  testing::TempDir dir;
  auto settings = spool_options_for(dir.path());
  settings.fsync = spool::SpoolOptions::Fsync::kAlways;
  {
    DiskSpool spool(settings);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
      // Appends one after another share no group commit: each waited for its own sync.
      EXPECT_EQ(spool.stats().data_syncs, static_cast<std::uint64_t>(i + 1));
    }
  }
  DiskSpool reopened(settings);
  EXPECT_EQ(reopened.stats().recovered, 20u);
}

TEST(DiskSpool, FsyncIntervalSyncsInTheBackgroundNotPerAppend) {
  testing::TempDir dir;
  auto settings = spool_options_for(dir.path());
  settings.fsync = spool::SpoolOptions::Fsync::kInterval;
  settings.fsync_interval_ms = 50;
  {
    DiskSpool spool(settings);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
    EXPECT_LE(spool.stats().data_syncs, 1u);  // at most one interval passed during the appends
    ASSERT_TRUE(testing::eventually([&] { return spool.stats().data_syncs >= 1; }, 5s));
    const auto after_flush = spool.stats().data_syncs;
    // Nothing new to make durable: the flusher must not sync again. (A pause that proves
    // something does not happen: four intervals.)
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(spool.stats().data_syncs, after_flush);
    ASSERT_TRUE(spool.append(spool_record("late")));
    ASSERT_TRUE(testing::eventually([&] { return spool.stats().data_syncs == after_flush + 1; }, 5s));
  }
  DiskSpool reopened(settings);
  EXPECT_EQ(reopened.stats().recovered, 21u);
}

TEST(DiskSpool, FsyncNeverLeavesItToTheKernel) {
  testing::TempDir dir;
  auto settings = spool_options_for(dir.path());
  settings.fsync = spool::SpoolOptions::Fsync::kNever;
  DiskSpool spool(settings);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
  spool.maintain(std::chrono::milliseconds(0), true);
  EXPECT_EQ(spool.stats().data_syncs, 0u);
}

TEST(DiskSpool, RecordsAppendedWhileTheConsumerSealsSegmentsAreEachReplayedOnce) {
  testing::TempDir dir;
  auto settings = spool_options_for(dir.path());
  settings.segment_bytes = 64 * 1024 * 1024;  // only maintain() ends a segment here
  DiskSpool spool(settings);
  constexpr int kCount = 3000;
  std::thread appender([&] {
    for (int i = 0; i < kCount; ++i) {
      EXPECT_TRUE(spool.append(spool_record("r" + std::to_string(i))));
      if (i % 50 != 49) continue;
      // Bursts: let the consumer catch up (and seal) between them.
      const auto until = std::chrono::steady_clock::now() + 1s;
      while (spool.has_backlog() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
      std::this_thread::sleep_for(200us);
    }
  });
  // The consumer seals the active segment whenever it has caught up (maintain), racing the
  // appender; an append must never land in a segment after it was sealed, or it is not read.
  std::vector<std::string> values;
  Ticket last = 0;
  DiskSpool::Pending pending;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (values.size() < static_cast<std::size_t>(kCount) && std::chrono::steady_clock::now() < deadline) {
    spool.maintain(0ms, true);
    if (!spool.peek(pending)) continue;
    values.emplace_back(pending.record.value);
    last = pending.ticket;
    spool.done(pending.ticket);
    spool.advance();
  }
  appender.join();
  spool.maintain(0ms, true);
  ASSERT_EQ(values.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], "r" + std::to_string(i));
  EXPECT_FALSE(spool.peek(pending));
  EXPECT_FALSE(spool.has_backlog());
  EXPECT_GT(last >> 32, 1u);  // maintain() sealed segments while records were appended
}

}  // namespace
}  // namespace intake::spool
