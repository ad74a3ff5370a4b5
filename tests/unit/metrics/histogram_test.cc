// HistogramSet's buckets and the text MetricsWriter makes of them.
#include "metrics/histogram.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ops/metrics.h"

namespace intake::metrics {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr MetricFamily kLatency{"intake_test_latency_seconds", "Test latency", MetricType::kHistogram};

TEST(HistogramSet, CountsEachObservationInTheFirstBucketWhoseBoundHoldsIt) {
  const double bounds[] = {0.001, 0.01, 0.1};
  HistogramSet set(bounds, 2, 3);
  set.observe(0, 0, microseconds(500));  // <= 0.001
  set.observe(1, 0, milliseconds(1));    // == 0.001: `le` includes the bound
  set.observe(2, 0, milliseconds(50));   // <= 0.1
  set.observe(7, 0, milliseconds(500));  // +Inf; shard 7 wraps to 1
  set.observe(0, 1, milliseconds(5));    // the other series
  std::vector<std::uint64_t> counts;
  double sum = 0;
  EXPECT_EQ(set.read(0, counts, sum), 4u);
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{2, 0, 1, 1}));
  EXPECT_DOUBLE_EQ(sum, 0.0005 + 0.001 + 0.05 + 0.5);
  EXPECT_EQ(set.read(1, counts, sum), 1u);
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{0, 1, 0, 0}));
}

TEST(HistogramSet, NegativeDurationsCountAsZero) {
  const double bounds[] = {0.001};
  HistogramSet set(bounds, 1, 1);
  set.observe(0, 0, std::chrono::nanoseconds(-5));
  std::vector<std::uint64_t> counts;
  double sum = 1;
  EXPECT_EQ(set.read(0, counts, sum), 1u);
  EXPECT_EQ(counts[0], 1u);
  EXPECT_EQ(sum, 0);
}

TEST(HistogramSet, ShardsWrittenFromManyThreadsSumExactly) {
  HistogramSet set(kLatencyBoundsSeconds, 1, 4);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 8; ++t) {  // two writers per shard
    threads.emplace_back([&set, t] {
      for (int i = 0; i < 10'000; ++i) set.observe(t, 0, microseconds(100 * (i % 50)));
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::uint64_t> counts;
  double sum = 0;
  EXPECT_EQ(set.read(0, counts, sum), 80'000u);
}

TEST(MetricsWriter, WritesAHistogramAsCumulativeBucketsSumAndCount) {
  const double bounds[] = {0.0005, 1};
  const std::uint64_t counts[] = {2, 1, 3};
  ops::MetricsWriter writer;
  writer.histogram(kLatency, {bounds, counts, 4.25}, "route=\"/x\"");
  EXPECT_EQ(writer.take(),
            "# HELP intake_test_latency_seconds Test latency\n"
            "# TYPE intake_test_latency_seconds histogram\n"
            "intake_test_latency_seconds_bucket{route=\"/x\",le=\"0.0005\"} 2\n"
            "intake_test_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "intake_test_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
            "intake_test_latency_seconds_sum{route=\"/x\"} 4.25\n"
            "intake_test_latency_seconds_count{route=\"/x\"} 6\n");
}

TEST(MetricsWriter, WritesAnUnlabelledHistogramWithOnlyLeInItsBuckets) {
  const double bounds[] = {0.1};
  const std::uint64_t counts[] = {0, 0};
  ops::MetricsWriter writer;
  writer.histogram(kLatency, {bounds, counts, 0});
  const std::string text = writer.take();
  EXPECT_NE(text.find("intake_test_latency_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_test_latency_seconds_sum 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("intake_test_latency_seconds_count 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace intake::metrics
