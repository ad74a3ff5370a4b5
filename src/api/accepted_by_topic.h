// AcceptedByTopic: records and value bytes the gateway accepted, per topic, with a bounded
// label set for /metrics:
//
//   intake_records_accepted_total{topic}       counter
//   intake_record_bytes_accepted_total{topic}  counter
//
// Only topics matching one of the allow-list globs (YAML metrics.topics) get a label of their
// own, and only the first `max_topics` of those seen (metrics.max_topics); every other record
// counts under topic="_other". The default (no globs) counts everything under "_other": a
// client choosing topic names can never grow the series count. Never a label per key.
//
// Cost per record: with no globs, one relaxed atomic add pair. With globs, a one-entry cache
// per thread (the topic this thread counted last: one string compare) before a scan of the
// named slots; a topic not yet named is matched against the globs, and the first time a
// matching topic is seen it takes a mutex once to claim a slot. No allocation after that
// (the per-thread cache reserves a Kafka topic name's maximum length once).
//
// Threads: count() from any thread; write() from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric.h"

namespace intake::api {

class AcceptedByTopic {
 public:
  // `globs`: topic globs (policy/glob.h syntax) that get a label; `max_topics`: at most so many.
  AcceptedByTopic(std::vector<std::string> globs, std::size_t max_topics);

  // Counts one accepted record of `value_bytes` value bytes to `topic`.
  void count(std::string_view topic, std::size_t value_bytes) noexcept;

  void write(metrics::MetricSink& out) const;
  static metrics::MetricList families();

  // The label `topic` counts under now ("_other" unless it has a slot), for tests.
  std::string label_of(std::string_view topic) const;

 private:
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> records{0};
    std::atomic<std::uint64_t> bytes{0};
  };
  std::size_t slot_of(std::string_view topic) noexcept;
  std::size_t find_named(std::string_view topic) const noexcept;

  std::vector<std::string> globs_;
  std::size_t max_topics_;
  std::unique_ptr<Slot[]> slots_;         // [0] = "_other", [1 .. max_topics] named
  std::unique_ptr<std::string[]> names_;  // names_[i] for slot i, written once before named_ grows
  std::atomic<std::size_t> named_{0};     // slots 1 .. named_ have a name
  std::mutex claim_mutex_;                // claims a slot (the first record of a topic only)
  const std::uint64_t instance_;          // tells this counter's thread cache entries apart
};

}  // namespace intake::api
