// ShardedHistogram: a latency histogram with fixed bucket bounds that many threads observe
// into without a lock or an allocation. Each shard (one per writer thread, e.g. per HTTP
// worker) sits on cache lines of its own, so writers never share a line; observe() is a
// bucket search over a handful of bounds and three relaxed atomic adds. A scrape sums the
// shards: it may see an observation's count before its sum (relaxed), never a torn number.
//
// Several histograms of one family (one per route) share the bounds; HistogramSet keeps them
// side by side, indexed by series, so a request costs the same whatever the series count.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "metrics/metric.h"

namespace intake::metrics {

// Bucket upper bounds for request and produce latencies, in seconds: 0.5 ms .. 30 s (the
// default sync timeout), roughly 1-2.5-5 per decade.
inline constexpr double kLatencyBoundsSeconds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25,   0.5,   1,      2.5,   5,    10,    30};

// `series` histograms × `shards` writers, all with the same bounds (seconds, ascending).
// Threads: observe() from any thread (a shard may have several writers: the adds are
// atomic); read() from any thread.
class HistogramSet {
 public:
  HistogramSet(std::span<const double> bounds_seconds, std::size_t series, std::size_t shards)
      : bounds_(bounds_seconds.begin(), bounds_seconds.end()),
        series_(series),
        shards_(std::max<std::size_t>(shards, 1)),
        // Per (shard, series): one counter per bucket incl. +Inf, then the sum in ns, on
        // whole cache lines.
        lines_per_series_((bounds_.size() + 2 + kSlotsPerLine - 1) / kSlotsPerLine),
        lines_(std::make_unique<Line[]>(shards_ * series_ * lines_per_series_)) {
    bounds_ns_.reserve(bounds_.size());
    for (double bound : bounds_) bounds_ns_.push_back(static_cast<std::int64_t>(bound * 1e9));
  }

  std::size_t series() const { return series_; }
  std::size_t shards() const { return shards_; }
  std::span<const double> bounds() const { return bounds_; }

  // Counts one observation of `elapsed` in histogram `series` of shard `shard` (taken modulo
  // the shard count). No lock, no allocation.
  void observe(std::size_t shard, std::size_t series, std::chrono::nanoseconds elapsed) {
    const std::int64_t ns = std::max<std::int64_t>(elapsed.count(), 0);
    // upper_bound-style: the first bound >= ns (Prometheus buckets are `le`).
    const auto bucket =
        static_cast<std::size_t>(std::lower_bound(bounds_ns_.begin(), bounds_ns_.end(), ns) - bounds_ns_.begin());
    shard %= shards_;
    slot(shard, series, bucket).fetch_add(1, std::memory_order_relaxed);
    slot(shard, series, bounds_.size() + 1).fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }

  // Histogram `series` summed over the shards: per-bucket (not cumulative) counts into
  // `counts` (resized to bounds + 1) and the sum in seconds. Returns the total count.
  std::uint64_t read(std::size_t series, std::vector<std::uint64_t>& counts, double& sum_seconds) const {
    counts.assign(bounds_.size() + 1, 0);
    std::uint64_t sum_ns = 0;
    std::uint64_t total = 0;
    for (std::size_t shard = 0; shard < shards_; ++shard) {
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        const auto n = slot(shard, series, i).load(std::memory_order_relaxed);
        counts[i] += n;
        total += n;
      }
      sum_ns += slot(shard, series, bounds_.size() + 1).load(std::memory_order_relaxed);
    }
    sum_seconds = static_cast<double>(sum_ns) / 1e9;
    return total;
  }

 private:
  static constexpr std::size_t kLine = 64;
  static constexpr std::size_t kSlotsPerLine = kLine / sizeof(std::atomic<std::uint64_t>);
  struct alignas(kLine) Line {
    std::atomic<std::uint64_t> slots[kSlotsPerLine]{};
  };
  // Counter `i` of histogram `series` in shard `shard`: bucket i, or the sum at bounds + 1.
  std::atomic<std::uint64_t>& slot(std::size_t shard, std::size_t series, std::size_t i) const {
    const std::size_t first = (shard * series_ + series) * lines_per_series_;
    return lines_[first + i / kSlotsPerLine].slots[i % kSlotsPerLine];
  }

  std::vector<double> bounds_;
  std::vector<std::int64_t> bounds_ns_;
  std::size_t series_;
  std::size_t shards_;
  std::size_t lines_per_series_;
  std::unique_ptr<Line[]> lines_;
};

}  // namespace intake::metrics
