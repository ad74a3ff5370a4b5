#include "config/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace intake::config {
namespace {

// A config whose fields all derive from `n`, so a reader can tell a whole version from a torn one.
std::shared_ptr<Config> numbered(std::uint64_t n) {
  auto config = std::make_shared<Config>();
  config->revision = std::to_string(n);
  config->source = "test:" + config->revision;
  config->brokers.assign(n % 7 + 1, "broker-" + config->revision + ":9092");
  return config;
}

std::string store_revision(const ConfigStore& store) { return store.current_for_request().revision; }

TEST(ConfigStore, CurrentForRequestSeesEachPublish) {
  ConfigStore store;
  EXPECT_EQ(store.current_for_request().version, 0u);
  EXPECT_TRUE(store.current_for_request().keys.empty());
  for (std::uint64_t n = 1; n <= 5; ++n) {
    const auto version = store.publish(numbered(n));
    const Config& seen = store.current_for_request();
    EXPECT_EQ(seen.version, version);
    EXPECT_EQ(seen.revision, std::to_string(n));
    EXPECT_EQ(&seen, store.current().get());         // the snapshot in force, not a copy
    EXPECT_EQ(&store.current_for_request(), &seen);  // no publish since: the same one again
  }
}

TEST(ConfigStore, RequestSnapshotOutlivesAPublishUntilTheThreadAsksAgain) {
  ConfigStore store;
  store.publish(numbered(1));
  const Config& during_request = store.current_for_request();
  store.publish(numbered(2));
  EXPECT_EQ(during_request.revision, "1");  // this thread still holds it
  EXPECT_EQ(store_revision(store), "2");
}

TEST(ConfigStore, TwoStoresOnOneThreadDoNotMix) {
  ConfigStore a;
  ConfigStore b;
  a.publish(numbered(10));
  b.publish(numbered(20));
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(store_revision(a), "10") << round;
    EXPECT_EQ(store_revision(b), "20") << round;
  }
  a.publish(numbered(11));
  EXPECT_EQ(store_revision(b), "20");
  EXPECT_EQ(store_revision(a), "11");
  EXPECT_EQ(store_revision(b), "20");

  // A store made after this thread read another one starts from its own empty config.
  ConfigStore c;
  EXPECT_EQ(store_revision(a), "11");
  EXPECT_EQ(c.current_for_request().version, 0u);
  EXPECT_TRUE(c.current_for_request().revision.empty());
}

TEST(ConfigStore, ReadersSeeWholeVersionsThatNeverGoBackWhilePublishesHappen) {
  constexpr std::uint64_t kVersions = 400;
  constexpr int kReaders = 3;
  ConfigStore store;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last_version = 0;
      auto check = [&] {
        const Config& config = store.current_for_request();
        reads.fetch_add(1, std::memory_order_relaxed);
        // Version n carries revision n (the first publish is version 1), and all derived from it.
        const std::string expected = config.version == 0 ? "" : std::to_string(config.version);
        EXPECT_EQ(config.revision, expected);
        if (config.version > 0) {
          EXPECT_EQ(config.source, "test:" + expected);
          ASSERT_EQ(config.brokers.size(), config.version % 7 + 1);
          for (const auto& broker : config.brokers) EXPECT_EQ(broker, "broker-" + expected + ":9092");
        }
        EXPECT_GE(config.version, last_version);
        last_version = config.version;
      };
      while (!done.load(std::memory_order_acquire)) check();
      check();  // after the last publish: it must be the one seen
      EXPECT_EQ(last_version, kVersions);
    });
  }
  // Publishes happen while the readers read: every reader has read before the first one, and
  // the readers read again after every 50 (a loaded machine may not schedule them otherwise).
  const auto readers_moved_past = [&](std::uint64_t count) {
    while (reads.load(std::memory_order_relaxed) < count) std::this_thread::yield();
  };
  readers_moved_past(kReaders);
  for (std::uint64_t n = 1; n <= kVersions; ++n) {
    store.publish(numbered(n));
    if (n % 50 == 0) readers_moved_past(reads.load(std::memory_order_relaxed) + kReaders);
  }
  done.store(true, std::memory_order_release);
  for (auto& reader : readers) reader.join();
  EXPECT_GT(reads.load(), static_cast<std::uint64_t>(kReaders));
}

}  // namespace
}  // namespace intake::config
