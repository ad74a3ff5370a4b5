// DiskSpool with damaged segment files: a flipped byte, a damaged header, a stretch cut out of
// the middle, a torn tail, damage found while running, damaged ack bits. In each case every
// record that still reads back is replayed, in order; exactly the damaged ones are counted; and
// the damaged bytes stay on disk (log_format.h, "Damage").
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "file_damage.h"
#include "spool/disk_spool.h"
#include "spool/log_format.h"
#include "spool_fixtures.h"
#include "temp_dir.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::spool_options_for;
using testing::spool_record;

// Record i's value; `padding` makes records big enough to fill several 64 KiB segments.
std::string value_of(int i, std::size_t padding) { return "r" + std::to_string(i) + ":" + std::string(padding, '.'); }

void write_records(const std::string& dir, int count, std::size_t padding = 0) {
  DiskSpool spool(spool_options_for(dir));
  for (int i = 0; i < count; ++i) ASSERT_TRUE(spool.append(spool_record(value_of(i, padding))));
}

std::vector<std::string> values_except(int count, const std::set<int>& lost, std::size_t padding = 0) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) {
    if (lost.count(i) == 0) values.push_back(value_of(i, padding));
  }
  return values;
}

// Drains the spool as the feeder does, with peek()/advance(); tickets are kept for done().
struct Drained {
  std::vector<std::string> values;
  std::vector<Ticket> tickets;
};

Drained drain(DiskSpool& spool) {
  Drained drained;
  DiskSpool::Pending pending;
  while (spool.peek(pending)) {
    drained.values.emplace_back(pending.record.value);
    drained.tickets.push_back(pending.ticket);
    spool.advance();
  }
  return drained;
}

// The byte offset of record `index` (counted across segments) and its segment's log path.
struct Place {
  std::string path;
  std::vector<std::uint64_t> frames;  // of that segment, plus its end
  std::size_t index = 0;              // the record's index in the segment
};

Place find_record(const std::string& dir, int index) {
  for (std::uint32_t seq = 1;; ++seq) {
    Place place{.path = Segment::log_path(dir, seq), .frames = {}, .index = 0};
    if (!fs::exists(place.path)) throw std::runtime_error("record " + std::to_string(index) + " is in no segment");
    place.frames = testing::frame_offsets(place.path);
    const auto records = static_cast<int>(place.frames.size()) - 1;
    if (index < records) {
      place.index = static_cast<std::size_t>(index);
      return place;
    }
    index -= records;
  }
}

std::size_t files_in(const std::string& dir) {
  std::size_t count = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& entry : fs::directory_iterator(dir)) count += entry.is_regular_file() ? 1 : 0;
  return count;
}

constexpr std::size_t kPadding = 1000;  // ~63 records per 64 KiB segment
constexpr int kRecords = 200;           // 4 segments

TEST(DiskSpoolDamage, AFlippedByteInTheMiddleOfASegmentLosesOnlyThatRecord) {
  testing::TempDir dir;
  write_records(dir.path(), kRecords, kPadding);
  ASSERT_TRUE(fs::exists(Segment::log_path(dir.path(), 3)));
  // Record 95: the middle of the second segment, a byte in the middle of its frame.
  const auto place = find_record(dir.path(), 95);
  ASSERT_EQ(place.path, Segment::log_path(dir.path(), 2));
  const auto frame = place.frames[place.index];
  testing::flip_bytes(place.path, frame + (place.frames[place.index + 1] - frame) / 2);

  DiskSpool spool(spool_options_for(dir.path()));
  const auto stats = spool.stats();
  EXPECT_EQ(stats.recovered, static_cast<std::uint64_t>(kRecords - 1));
  EXPECT_EQ(stats.unreadable, 1u);
  EXPECT_EQ(stats.damaged_regions, 1u);
  EXPECT_EQ(stats.damaged_bytes, place.frames[place.index + 1] - frame);
  EXPECT_EQ(stats.torn_bytes, 0u);
  EXPECT_EQ(drain(spool).values, values_except(kRecords, {95}, kPadding));
  EXPECT_FALSE(spool.has_backlog());
  EXPECT_EQ(spool.stats().unreadable, 1u);  // the cursor passing the known damage counts nothing more
}

TEST(DiskSpoolDamage, ADamagedFrameHeaderResyncsOnTheNextFrame) {
  testing::TempDir dir;
  write_records(dir.path(), 40);
  const auto place = find_record(dir.path(), 17);
  testing::flip_bytes(place.path, place.frames[place.index] + 4, 8);  // record number and length

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().unreadable, 1u);
  EXPECT_EQ(spool.stats().damaged_regions, 1u);
  EXPECT_EQ(drain(spool).values, values_except(40, {17}));
}

TEST(DiskSpoolDamage, AStretchCutOutOfASegmentLosesOnlyTheFramesItTouched) {
  testing::TempDir dir;
  write_records(dir.path(), 40);
  const auto place = find_record(dir.path(), 10);
  const auto& frames = place.frames;
  // From the middle of record 10's frame to the middle of record 12's: 10, 11 and 12 are gone,
  // the records after them move up.
  testing::cut_out(place.path, (frames[10] + frames[11]) / 2, (frames[12] + frames[13]) / 2);

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().unreadable, 3u);
  EXPECT_EQ(spool.stats().damaged_regions, 1u);
  EXPECT_EQ(spool.stats().torn_bytes, 0u);
  EXPECT_EQ(spool.stats().recovered, 37u);
  EXPECT_EQ(drain(spool).values, values_except(40, {10, 11, 12}));
}

TEST(DiskSpoolDamage, WholeFramesCutOutAtTheirBoundariesAreCountedByTheirRecordNumbers) {
  testing::TempDir dir;
  write_records(dir.path(), 20);
  const auto place = find_record(dir.path(), 5);
  testing::cut_out(place.path, place.frames[5], place.frames[8]);  // records 5, 6, 7

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().unreadable, 3u);
  EXPECT_EQ(spool.stats().damaged_bytes, 0u);  // no byte is damaged: they are missing
  EXPECT_EQ(drain(spool).values, values_except(20, {5, 6, 7}));
}

TEST(DiskSpoolDamage, ATornTailIsCutAndEveryRecordBeforeItIsReplayed) {
  testing::TempDir dir;
  write_records(dir.path(), 20);
  const auto place = find_record(dir.path(), 19);
  const auto cut_at = place.frames[19] + kFrameHeaderBytes + 2;  // mid-payload of the last frame
  testing::cut_end(place.path, cut_at);

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().torn_bytes, cut_at - place.frames[19]);
  EXPECT_EQ(spool.stats().unreadable, 0u);
  EXPECT_EQ(spool.stats().damaged_regions, 0u);
  EXPECT_EQ(spool.stats().recovered, 19u);
  EXPECT_EQ(fs::file_size(place.path), place.frames[19]);
  // The cut bytes are kept.
  EXPECT_EQ(files_in(dir.path() + "/damaged"), 1u);
  EXPECT_TRUE(fs::exists(dir.path() + "/damaged/0000000001-at-" + std::to_string(place.frames[19]) + ".torn"));
  EXPECT_EQ(drain(spool).values, values_except(20, {19}));
}

TEST(DiskSpoolDamage, DamageBeforeTheLastWholeFrameIsNotATornTail) {
  testing::TempDir dir;
  write_records(dir.path(), 20);
  const auto place = find_record(dir.path(), 18);
  testing::flip_bytes(place.path, place.frames[18]);  // record 18's sync marker; record 19 follows
  const auto size = fs::file_size(place.path);

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().torn_bytes, 0u);
  EXPECT_EQ(spool.stats().unreadable, 1u);
  EXPECT_EQ(fs::file_size(place.path), size);
  EXPECT_EQ(drain(spool).values, values_except(20, {18}));
}

TEST(DiskSpoolDamage, ADamagedSegmentIsMovedToDamagedOnceItsOtherRecordsAreDone) {
  testing::TempDir dir;
  write_records(dir.path(), kRecords, kPadding);
  const auto place = find_record(dir.path(), 100);
  testing::flip_bytes(place.path, place.frames[place.index] + kFrameHeaderBytes + 10);
  const std::string damaged_bytes = testing::file_bytes(place.path);

  DiskSpool spool(spool_options_for(dir.path()));
  const auto drained = drain(spool);
  ASSERT_EQ(drained.values.size(), static_cast<std::size_t>(kRecords - 1));
  for (const auto ticket : drained.tickets) spool.done(ticket);
  spool.maintain(0ms, true);
  EXPECT_EQ(spool.stats().segments, 0u);
  EXPECT_EQ(spool.stats().bytes, 0u);
  // The undamaged segments are deleted; the damaged one is kept whole, both files.
  for (std::uint32_t seq = 1; seq <= 4; ++seq) EXPECT_FALSE(fs::exists(Segment::log_path(dir.path(), seq)));
  const std::string kept = dir.path() + "/damaged/" + fs::path(place.path).filename().string();
  ASSERT_TRUE(fs::exists(kept));
  EXPECT_EQ(testing::file_bytes(kept), damaged_bytes);
  EXPECT_TRUE(fs::exists(fs::path(kept).replace_extension(".acks")));
  EXPECT_EQ(files_in(dir.path() + "/damaged"), 2u);
}

TEST(DiskSpoolDamage, ARestartFindsTheDamageAgainButCountsNoRecordTwice) {
  testing::TempDir dir;
  write_records(dir.path(), 30);
  const auto place = find_record(dir.path(), 12);
  testing::flip_bytes(place.path, place.frames[12] + kFrameHeaderBytes);
  {
    DiskSpool spool(spool_options_for(dir.path()));
    EXPECT_EQ(spool.stats().unreadable, 1u);
  }  // nothing delivered: every other record waits again
  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().unreadable, 0u);  // record 12 was marked done when it was found
  EXPECT_EQ(spool.stats().damaged_regions, 1u);
  EXPECT_EQ(spool.stats().recovered, 29u);
  EXPECT_EQ(drain(spool).values, values_except(30, {12}));
}

TEST(DiskSpoolDamage, ARecordThatFailsItsCrcWhileRunningIsSkippedAlone) {
  testing::TempDir dir;
  DiskSpool spool(spool_options_for(dir.path()));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(spool.append(spool_record(value_of(i, 0))));
  const auto place = find_record(dir.path(), 12);
  testing::flip_bytes(place.path, place.frames[12] + kFrameHeaderBytes + 1);  // the spool has it open

  auto drained = drain(spool);
  EXPECT_EQ(drained.values, values_except(30, {12}));
  EXPECT_EQ(spool.stats().unreadable, 1u);
  EXPECT_EQ(spool.stats().damaged_regions, 1u);
  EXPECT_FALSE(spool.has_backlog());
  // The segment is still the active one and takes new records after the damage.
  ASSERT_TRUE(spool.append(spool_record("after")));
  drained = drain(spool);
  ASSERT_EQ(drained.values.size(), 1u);
  EXPECT_EQ(drained.values[0], "after");
  EXPECT_EQ(place.path, Segment::log_path(dir.path(), 1));
  EXPECT_EQ(spool.stats().segments, 1u);
}

TEST(DiskSpoolDamage, ALiveDamagedHeaderAtTheEndOfTheActiveSegmentWaitsForTheNextRecord) {
  testing::TempDir dir;
  DiskSpool spool(spool_options_for(dir.path()));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool.append(spool_record(value_of(i, 0))));
  const auto place = find_record(dir.path(), 9);
  testing::flip_bytes(place.path, place.frames[9] + 1);

  EXPECT_EQ(drain(spool).values, values_except(9, {}));
  EXPECT_TRUE(spool.has_backlog());  // record 9 is neither read nor known lost yet
  ASSERT_TRUE(spool.append(spool_record("next")));
  EXPECT_EQ(drain(spool).values, std::vector<std::string>{"next"});
  EXPECT_EQ(spool.stats().unreadable, 1u);
  EXPECT_FALSE(spool.has_backlog());
}

TEST(DiskSpoolDamage, AckBitsThatCannotBeTheSegmentsAreSetAsideAndEveryRecordReplayed) {
  testing::TempDir dir;
  {
    DiskSpool spool(spool_options_for(dir.path()));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool.append(spool_record(value_of(i, 0))));
    const auto drained = drain(spool);
    for (int i = 0; i < 5; ++i) spool.done(drained.tickets[static_cast<std::size_t>(i)]);
  }
  testing::flip_bytes(Segment::acks_path(dir.path(), 1), 1000);  // bits of records 8000..8007

  DiskSpool spool(spool_options_for(dir.path()));
  EXPECT_EQ(spool.stats().recovered, 10u);  // the five delivered ones come again: duplicates, not a loss
  EXPECT_TRUE(fs::exists(dir.path() + "/damaged/0000000001.acks.bad"));
  EXPECT_EQ(drain(spool).values, values_except(10, {}));
}

}  // namespace
}  // namespace intake::spool
