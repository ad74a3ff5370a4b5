// The Kafka producer's own recoveries against the real broker, in process (the producer is the
// unit; the broker is real): a fatal idempotence error starts a fresh producer that takes over
// every record, and a record a hand-over cannot place is spooled again at once and delivered,
// not left until the next start. Delivery is proven by reading every partition to its end.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "config/static_config.h"
#include "eventually.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka/producer.h"
#include "kafka_reader.h"
#include "peers.h"
#include "spool/disk_spool.h"
#include "spool/spooling_sink.h"
#include "temp_dir.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

kafka::OutgoingRecord async_record(std::string_view topic, std::string_view value) {
  return kafka::OutgoingRecord{
      .topic = topic, .key = {}, .value = value, .partition = -1, .headers = {}, .listener = nullptr};
}

// Failures of async records, as the gateway's spool would hear of them.
struct FailureCounter final : kafka::DeliveryListener {
  void on_delivery(const kafka::DeliveryReport& report) override {
    if (!report.delivered) ++failed;
  }
  std::atomic<int> failed{0};
};

TEST(ProducerRecovery, AFatalIdempotenceErrorStartsAFreshProducerAndLosesNoAcceptedRecord) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string topic = testing::unique_name("recovery.fatal");
  kafka::ProducerOptions settings;
  settings.bootstrap_servers = bootstrap;
  kafka::KafkaProducer producer(settings);
  FailureCounter failures;
  producer.set_async_listener(&failures);
  ASSERT_TRUE(eventually([&] { return producer.ready(); }, 15s));

  std::set<std::string> accepted;
  int refused = 0;
  auto send = [&](const std::string& value) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (producer.enqueue(async_record(topic, value))) {
        accepted.insert(value);
        return;
      }
      ++refused;  // 503 while the fresh producer starts: the client would retry
      std::this_thread::sleep_for(1ms);
    }
  };
  for (int i = 0; i < 2000; ++i) send("before-" + std::to_string(i));

  std::atomic<bool> sampling{true}, saw_not_ready{false};
  std::thread sampler([&] {
    while (sampling) {
      if (!producer.ready()) saw_not_ready = true;
      std::this_thread::sleep_for(20us);
    }
  });
  producer.simulate_fatal_error();
  for (int i = 0; i < 2000; ++i) send("after-" + std::to_string(i));
  EXPECT_TRUE(eventually([&] { return producer.counters().fatal_recoveries.load() == 1; }, 10s));
  EXPECT_TRUE(eventually([&] { return producer.ready(); }, 15s));
  sampling = false;
  sampler.join();
  EXPECT_TRUE(saw_not_ready) << "readiness never dropped during the recovery";
  EXPECT_EQ(producer.stop(), 0u);  // everything delivered within the flush

  const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
  std::printf(
      "[ fatal recovery ] accepted %zu, refused while recovering %d, handed over %llu, failed %d; lost %zu, "
      "duplicated %zu\n",
      accepted.size(), refused, static_cast<unsigned long long>(producer.counters().handed_over.load()),
      failures.failed.load(), delivery.lost, delivery.duplicated);
  EXPECT_EQ(accepted.size(), 4000u);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(failures.failed.load(), 0);
  EXPECT_EQ(producer.counters().fatal_recoveries.load(), 1u);
  EXPECT_GE(producer.counters().producers_started.load(), 2u);
}

// Holds the poller thread of the producer that serves its delivery report until released.
class BlockingListener final : public kafka::DeliveryListener {
 public:
  void on_delivery(const kafka::DeliveryReport& report) override {
    std::unique_lock lock(mutex_);
    delivered_ = report.delivered;
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
  }
  bool wait_entered(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  bool delivered() const { return delivered_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false, released_ = false, delivered_ = false;
};

TEST(ProducerRecovery, ARecordAHandOverCannotPlaceIsSpooledAgainAtOnceAndDelivered) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::string topic = testing::unique_name("recovery.purge");
  const auto [host, port] = testing::parse_host_port(bootstrap);
  ASSERT_EQ(host, "127.0.0.1");
  testing::TempDir dir("intake-runtime-purge");
  spool::SpoolOptions spool_settings;
  spool_settings.dir = dir.path();
  spool_settings.fsync = spool::SpoolOptions::Fsync::kNever;
  kafka::ProducerOptions settings;
  settings.bootstrap_servers = bootstrap;
  settings.linger_ms = 3000;  // records stay queued (not in flight) while the test arranges the hand-over
  settings.max_queued_records = 40;
  settings.drain_grace_ms = 0;
  kafka::KafkaProducer producer(settings);
  spool::DiskSpool spool(spool_settings);
  spool::SpoolingSink sink(producer, &spool, spool::SpoolOptions::Mode::kFallback);
  producer.set_async_listener(&sink);
  sink.start();
  ASSERT_TRUE(eventually([&] { return producer.ready(); }, 15s));

  // 1. Park the first producer's report thread inside a sync record's report.
  BlockingListener blocker;
  auto parked = async_record(topic, "parked");
  parked.listener = &blocker;
  ASSERT_TRUE(producer.enqueue(parked));
  ASSERT_TRUE(blocker.wait_entered(20s));
  ASSERT_TRUE(blocker.delivered());

  // 2. Fill the first producer's queue: these records are queued (linger) and will be handed over.
  std::set<std::string> accepted{"parked"};
  int queued_in_first = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string value = "first-" + std::to_string(i);
    auto result = producer.enqueue(async_record(topic, value));
    if (!result) {
      ASSERT_EQ(result.error().code, ErrorCode::kBackpressure) << result.error().message;
      break;
    }
    accepted.insert(value);
    ++queued_in_first;
  }
  ASSERT_GT(queued_in_first, 10);

  // 3. A new broker set (the same broker, spelled differently): a new producer; the old one's
  // queue is purged now, but its reports wait behind the parked one.
  producer.set_brokers(std::vector<std::string>{"localhost:" + std::to_string(port)});
  ASSERT_EQ(producer.counters().producers_started.load(), 2u);
  int queued_in_second = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string value = "second-" + std::to_string(i);
    auto result = producer.enqueue(async_record(topic, value));
    if (!result) {
      ASSERT_EQ(result.error().code, ErrorCode::kBackpressure) << result.error().message;
      break;
    }
    accepted.insert(value);
    ++queued_in_second;
  }
  ASSERT_GT(queued_in_second, 10);

  // 4. Release: the hand-over finds the new producer full. Those records are spooled at once.
  blocker.release();
  EXPECT_TRUE(eventually([&] { return sink.counters().respooled.load() > 0; }, 10s));
  const auto hand_over_failed =
      producer.counters().failed_by_reason[static_cast<std::size_t>(kafka::FailureReason::kHandOverFailed)].load();
  EXPECT_EQ(sink.counters().respooled.load(), hand_over_failed);
  // And sent from the spool as soon as there is room, without a restart.
  EXPECT_TRUE(
      eventually([&] { return spool.stats().waiting_records == 0 && sink.counters().replayed.load() > 0; }, 30s));
  const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
  sink.stop_feeding();
  EXPECT_EQ(producer.stop(), 0u);
  std::printf(
      "[ runtime purge ] accepted %zu (first producer %d, second %d), handed over %llu, hand-over failed "
      "%llu, respooled %llu, replayed %llu; lost %zu, duplicated %zu\n",
      accepted.size(), queued_in_first, queued_in_second,
      static_cast<unsigned long long>(producer.counters().handed_over.load()),
      static_cast<unsigned long long>(hand_over_failed),
      static_cast<unsigned long long>(sink.counters().respooled.load()),
      static_cast<unsigned long long>(sink.counters().replayed.load()), delivery.lost, delivery.duplicated);
  EXPECT_GT(hand_over_failed, 0u);
  EXPECT_EQ(delivery.lost, 0u);
  EXPECT_EQ(sink.counters().lost.load(), 0u);
}

}  // namespace
}  // namespace intake
