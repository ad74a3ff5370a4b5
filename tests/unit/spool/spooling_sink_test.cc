// SpoolingSink against a fake Kafka (behind the RecordSink interface) and a real DiskSpool:
// which records go where in each mode, replay order, and what happens to failed deliveries.
#include "spool/spooling_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "eventually.h"
#include "temp_dir.h"

namespace intake::spool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Mode = spool::SpoolOptions::Mode;
using testing::eventually;

// Kafka as the sink sees it: up or down, room or full; remembers what it took.
class FakeKafka final : public kafka::RecordSink {
 public:
  struct Taken {
    std::string value;
    std::uint64_t ticket;
  };
  Result<void> enqueue(const kafka::OutgoingRecord& record) override {
    if (!up) return make_error(ErrorCode::kKafkaUnavailable, "down");
    if (full) return make_error(ErrorCode::kBackpressure, "full");
    if (record.partition >= partitions) return make_error(ErrorCode::kPartitionNotFound, "no such partition");
    std::lock_guard lock(mutex);
    taken.push_back({std::string(record.value), record.ticket});
    return {};
  }
  // Like the producer: knows a partition is missing only once it has the topic's metadata.
  Result<void> check(const kafka::OutgoingRecord& record) const override {
    if (metadata_known && record.partition >= partitions) {
      return make_error(ErrorCode::kPartitionNotFound, "no such partition");
    }
    return {};
  }
  bool ready() const override { return up; }
  std::vector<Taken> snapshot() const {
    std::lock_guard lock(mutex);
    return taken;
  }
  std::atomic<bool> up{true};
  std::atomic<bool> full{false};
  std::atomic<int> partitions{3};
  std::atomic<bool> metadata_known{false};
  mutable std::mutex mutex;
  std::vector<Taken> taken;
};

class SpoolingSinkTest : public ::testing::Test {
 protected:
  spool::SpoolOptions settings() const {
    spool::SpoolOptions settings;
    settings.dir = dir.path();
    settings.fsync = spool::SpoolOptions::Fsync::kNever;
    settings.segment_bytes = 64 * 1024;
    return settings;
  }
  static kafka::OutgoingRecord record(std::string_view value, std::int32_t partition = -1) {
    return kafka::OutgoingRecord{
        .topic = "t", .key = {}, .value = value, .partition = partition, .headers = {}, .listener = nullptr};
  }
  static std::vector<std::string> values(const std::vector<FakeKafka::Taken>& taken) {
    std::vector<std::string> out;
    for (const auto& item : taken) out.push_back(item.value);
    return out;
  }
  // Delivers everything the fake took so far, as the producer's delivery reports would.
  static void deliver(SpoolingSink& sink, const std::vector<FakeKafka::Taken>& taken) {
    for (const auto& item : taken) {
      sink.on_delivery(kafka::DeliveryReport{true, 0, 0, {}, kafka::FailureReason::kOther, item.ticket, nullptr});
    }
  }

  testing::TempDir dir;
  FakeKafka kafka;
};

TEST_F(SpoolingSinkTest, FallbackGoesStraightToKafkaWhileKafkaTakesRecords) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kFallback);
  sink.start();
  ASSERT_TRUE(sink.enqueue(record("a")));
  EXPECT_EQ(values(kafka.snapshot()), (std::vector<std::string>{"a"}));
  EXPECT_EQ(kafka.snapshot()[0].ticket, 0u);
  EXPECT_EQ(spool.stats().appended, 0u);
}

TEST_F(SpoolingSinkTest, FallbackSpoolsWhileKafkaIsDownAndReplaysInOrderWhenItIsBack) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kFallback);
  sink.start();
  kafka.up = false;
  for (const char* value : {"1", "2", "3"}) ASSERT_TRUE(sink.enqueue(record(value)));
  kafka.full = true;  // a full queue spools too
  kafka.up = true;
  ASSERT_TRUE(sink.enqueue(record("4")));
  EXPECT_TRUE(kafka.snapshot().empty());
  EXPECT_EQ(spool.stats().appended, 4u);
  kafka.full = false;
  // Kafka is back, but records still wait in the spool: a new one goes behind them.
  ASSERT_TRUE(sink.enqueue(record("5")));
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 5; }, 5s));
  EXPECT_EQ(values(kafka.snapshot()), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  for (const auto& item : kafka.snapshot()) EXPECT_NE(item.ticket, 0u);
  deliver(sink, kafka.snapshot());
  // Caught up: the segment is sealed after a second and deleted, as every record is done.
  EXPECT_TRUE(eventually([&] { return spool.stats().segments == 0; }, 5s));
  EXPECT_EQ(sink.counters().spooled.load(), 5u);
  EXPECT_EQ(sink.counters().replayed.load(), 5u);
  // And with nothing waiting, records go straight to Kafka again.
  ASSERT_TRUE(sink.enqueue(record("6")));
  EXPECT_EQ(kafka.snapshot().back().ticket, 0u);
}

TEST_F(SpoolingSinkTest, WriteAheadPutsEveryAsyncRecordOnDiskFirst) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  sink.start();
  for (const char* value : {"a", "b"}) ASSERT_TRUE(sink.enqueue(record(value)));
  EXPECT_EQ(spool.stats().appended, 2u);
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 2; }, 5s));
  EXPECT_EQ(values(kafka.snapshot()), (std::vector<std::string>{"a", "b"}));
  deliver(sink, kafka.snapshot());
  EXPECT_TRUE(eventually([&] { return spool.stats().segments == 0; }, 5s));
}

TEST_F(SpoolingSinkTest, SyncRecordsAreNeverSpooled) {
  struct Listener final : kafka::DeliveryListener {
    void on_delivery(const kafka::DeliveryReport&) override {}
  } listener;
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  kafka.up = false;
  auto sync_record = record("sync");
  sync_record.listener = &listener;
  auto result = sink.enqueue(sync_record);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kKafkaUnavailable);
  EXPECT_EQ(spool.stats().appended, 0u);
}

TEST_F(SpoolingSinkTest, AFailedDeliveryIsSpooledAgainAndSentLater) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kFallback);
  sink.start();
  const auto failed = record("timed-out");
  sink.on_delivery(kafka::DeliveryReport{
      false, -1, -1, {ErrorCode::kDeliveryFailed, "timed out"}, kafka::FailureReason::kTimedOut, 0, &failed});
  EXPECT_EQ(sink.counters().respooled.load(), 1u);
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 1; }, 5s));
  EXPECT_EQ(kafka.snapshot()[0].value, "timed-out");
  EXPECT_EQ(sink.counters().lost.load(), 0u);
}

TEST_F(SpoolingSinkTest, ARecordKafkaWillNeverTakeIsQuarantinedNotRetried) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kFallback);
  const std::string large_value(5000, 'x');
  const auto too_large = record(large_value);
  sink.on_delivery(kafka::DeliveryReport{
      false, -1, -1, {ErrorCode::kDeliveryFailed, "too large"}, kafka::FailureReason::kTooLarge, 0, &too_large});
  EXPECT_EQ(sink.counters().quarantined.load(), 1u);
  EXPECT_EQ(spool.stats().appended, 0u);
  EXPECT_TRUE(fs::exists(dir.path() + "/rejected/0000000001.log"));
  EXPECT_GT(fs::file_size(dir.path() + "/rejected/0000000001.log"), 5000u);
}

TEST_F(SpoolingSinkTest, ASpooledRecordPurgedAtShutdownIsSentAfterTheRestart) {
  {
    DiskSpool spool(settings());
    SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
    sink.start();
    ASSERT_TRUE(sink.enqueue(record("in-flight")));
    ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 1; }, 5s));
    sink.stop_feeding();
    const auto purged = record("in-flight");
    sink.on_delivery(kafka::DeliveryReport{false,
                                           -1,
                                           -1,
                                           {ErrorCode::kDeliveryFailed, "purged"},
                                           kafka::FailureReason::kPurged,
                                           kafka.snapshot()[0].ticket,
                                           &purged});
    EXPECT_EQ(sink.counters().lost.load(), 0u);
  }
  kafka.taken.clear();
  DiskSpool spool(settings());
  EXPECT_EQ(spool.stats().recovered, 1u);
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  sink.start();
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 1; }, 5s));
  EXPECT_EQ(kafka.snapshot()[0].value, "in-flight");
}

TEST_F(SpoolingSinkTest, FallbackAnswersAPermanentRefusalAndSpoolsNothing) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kFallback);
  sink.start();
  auto refused = sink.enqueue(record("poison", 9999));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPartitionNotFound);
  EXPECT_EQ(spool.stats().appended, 0u);
  ASSERT_TRUE(sink.enqueue(record("fine", 1)));
  EXPECT_EQ(values(kafka.snapshot()), (std::vector<std::string>{"fine"}));
}

TEST_F(SpoolingSinkTest, ARecordKafkaIsKnownToRefuseIsRefusedBeforeItIsSpooled) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  kafka.metadata_known = true;
  auto refused = sink.enqueue(record("poison", 3));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPartitionNotFound);
  EXPECT_EQ(spool.stats().appended, 0u);
  // Fallback while Kafka is down checks too: the record would only be quarantined later.
  SpoolingSink fallback(kafka, &spool, Mode::kFallback);
  kafka.up = false;
  refused = fallback.enqueue(record("poison", 3));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kPartitionNotFound);
  EXPECT_EQ(spool.stats().appended, 0u);
}

TEST_F(SpoolingSinkTest, APoisonRecordInTheSpoolIsQuarantinedAndTheRecordsBehindItFlow) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  // Spooled before metadata said the partition is missing, so only the feeder finds out.
  ASSERT_TRUE(sink.enqueue(record("before", 0)));
  ASSERT_TRUE(sink.enqueue(record("poison", 9999)));
  for (const char* value : {"after-1", "after-2", "after-3"}) ASSERT_TRUE(sink.enqueue(record(value)));
  sink.start();
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 4; }, 5s));
  EXPECT_EQ(values(kafka.snapshot()), (std::vector<std::string>{"before", "after-1", "after-2", "after-3"}));
  EXPECT_EQ(sink.counters().quarantined.load(), 1u);
  EXPECT_EQ(spool.stats().quarantined, 1u);
  EXPECT_TRUE(fs::exists(dir.path() + "/rejected/0000000001.log"));
}

TEST_F(SpoolingSinkTest, APoisonRecordAlreadyOnDiskAtStartDoesNotBlockTheRest) {
  {
    DiskSpool spool(settings());
    SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);  // not started: nothing is fed
    ASSERT_TRUE(sink.enqueue(record("poison", 9999)));
    ASSERT_TRUE(sink.enqueue(record("next")));
  }
  DiskSpool spool(settings());
  EXPECT_EQ(spool.stats().recovered, 2u);
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  sink.start();
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 1; }, 5s));
  EXPECT_EQ(kafka.snapshot()[0].value, "next");
  EXPECT_EQ(sink.counters().quarantined.load(), 1u);
}

TEST_F(SpoolingSinkTest, ARecordAHandOverCouldNotPlaceIsSpooledAgainAtOnce) {
  DiskSpool spool(settings());
  SpoolingSink sink(kafka, &spool, Mode::kWriteAhead);
  ASSERT_TRUE(sink.enqueue(record("handed")));
  sink.start();
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 1; }, 5s));
  const auto ticket = kafka.snapshot()[0].ticket;
  const auto failed = record("handed");
  // A run-time purge (the new producer's queue was full), not a shutdown: sent again now,
  // not at the next start.
  sink.on_delivery(kafka::DeliveryReport{false,
                                         -1,
                                         -1,
                                         {ErrorCode::kKafkaUnavailable, "hand-over failed"},
                                         kafka::FailureReason::kHandOverFailed,
                                         ticket,
                                         &failed});
  EXPECT_EQ(sink.counters().respooled.load(), 1u);
  ASSERT_TRUE(eventually([&] { return kafka.snapshot().size() == 2; }, 5s));
  EXPECT_EQ(kafka.snapshot()[1].value, "handed");
  EXPECT_NE(kafka.snapshot()[1].ticket, ticket);
}

TEST_F(SpoolingSinkTest, WithoutASpoolFailedAsyncRecordsAreCountedAsLost) {
  SpoolingSink sink(kafka, nullptr, Mode::kFallback);
  kafka.up = false;
  auto refused = sink.enqueue(record("x"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kKafkaUnavailable);  // the client is told
  const auto failed = record("y");
  sink.on_delivery(kafka::DeliveryReport{
      false, -1, -1, {ErrorCode::kDeliveryFailed, "timed out"}, kafka::FailureReason::kTimedOut, 0, &failed});
  EXPECT_EQ(sink.counters().lost.load(), 1u);
}

}  // namespace
}  // namespace intake::spool
