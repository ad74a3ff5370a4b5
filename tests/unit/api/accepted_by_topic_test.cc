// AcceptedByTopic: per-topic counts with a label set bounded by the allow-list and the cap.
#include "api/accepted_by_topic.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ops/metrics.h"

namespace intake::api {
namespace {

std::string scrape(const AcceptedByTopic& accepted) {
  ops::MetricsWriter writer;
  accepted.write(writer);
  return writer.take();
}

TEST(AcceptedByTopic, WithoutGlobsEverythingCountsAsOther) {
  AcceptedByTopic accepted({}, 50);
  accepted.count("orders", 10);
  accepted.count("clicks", 5);
  const std::string text = scrape(accepted);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"_other\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_record_bytes_accepted_total{topic=\"_other\"} 15\n"), std::string::npos);
  EXPECT_EQ(text.find("orders"), std::string::npos);
}

TEST(AcceptedByTopic, ListedTopicsGetALabelOthersDoNot) {
  AcceptedByTopic accepted({"orders.*", "audit"}, 50);
  accepted.count("orders.eu", 3);
  accepted.count("clicks", 4);
  accepted.count("orders.eu", 3);
  accepted.count("audit", 1);
  const std::string text = scrape(accepted);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"orders.eu\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_record_bytes_accepted_total{topic=\"orders.eu\"} 6\n"), std::string::npos);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"audit\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"_other\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("clicks"), std::string::npos);
}

TEST(AcceptedByTopic, TopicsPastTheCapCountAsOther) {
  AcceptedByTopic accepted({"t.*"}, 2);
  for (const char* topic : {"t.a", "t.b", "t.c", "t.a", "t.d"}) accepted.count(topic, 1);
  EXPECT_EQ(accepted.label_of("t.a"), "t.a");
  EXPECT_EQ(accepted.label_of("t.b"), "t.b");
  EXPECT_EQ(accepted.label_of("t.c"), "_other");
  const std::string text = scrape(accepted);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"t.a\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"_other\"} 2\n"), std::string::npos);
}

TEST(AcceptedByTopic, TwoCountersKeepTheirOwnSlotsOnOneThread) {
  AcceptedByTopic first({"a"}, 5);
  AcceptedByTopic second({}, 5);
  first.count("a", 1);
  second.count("a", 1);  // must not reuse `first`'s cached slot
  first.count("a", 1);
  EXPECT_NE(scrape(first).find("intake_records_accepted_total{topic=\"a\"} 2\n"), std::string::npos);
  EXPECT_NE(scrape(second).find("intake_records_accepted_total{topic=\"_other\"} 1\n"), std::string::npos);
}

TEST(AcceptedByTopic, ConcurrentFirstSightingsClaimOneSlotPerTopic) {
  AcceptedByTopic accepted({"*"}, 3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&accepted] {
      for (int i = 0; i < 1000; ++i) accepted.count(i % 2 == 0 ? "x" : "y", 1);
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = scrape(accepted);
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"x\"} 2000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"y\"} 2000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_records_accepted_total{topic=\"_other\"} 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace intake::api
