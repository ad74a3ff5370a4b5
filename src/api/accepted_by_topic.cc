#include "api/accepted_by_topic.h"

#include "policy/glob.h"

namespace intake::api {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kRecords{"intake_records_accepted_total",
                                "Records accepted (async: answered 202; sync: handed to the producer), by topic "
                                "(metrics.topics; \"_other\" for the rest)",
                                MetricType::kCounter};
constexpr MetricFamily kBytes{"intake_record_bytes_accepted_total",
                              "Value bytes of the records accepted, by topic (as intake_records_accepted_total)",
                              MetricType::kCounter};
constexpr const MetricFamily* kFamilies[] = {&kRecords, &kBytes};

constexpr std::size_t kMaxTopicNameBytes = 249;  // Kafka's limit

std::atomic<std::uint64_t> next_instance{1};

// The topic this thread counted last, and for which counter and slot.
struct LastTopic {
  std::uint64_t instance = 0;
  std::size_t slot = 0;
  std::string topic;
  LastTopic() { topic.reserve(kMaxTopicNameBytes + 1); }
};
thread_local LastTopic last_topic;

}  // namespace

AcceptedByTopic::AcceptedByTopic(std::vector<std::string> globs, std::size_t max_topics)
    : globs_(std::move(globs)),
      max_topics_(globs_.empty() ? 0 : max_topics),
      slots_(std::make_unique<Slot[]>(max_topics_ + 1)),
      names_(std::make_unique<std::string[]>(max_topics_ + 1)),
      instance_(next_instance.fetch_add(1)) {
  names_[0] = "_other";
}

std::size_t AcceptedByTopic::find_named(std::string_view topic) const noexcept {
  const std::size_t named = named_.load(std::memory_order_acquire);
  for (std::size_t i = 1; i <= named; ++i) {
    if (names_[i] == topic) return i;
  }
  return 0;
}

std::size_t AcceptedByTopic::slot_of(std::string_view topic) noexcept {
  if (max_topics_ == 0) return 0;
  if (last_topic.instance == instance_ && last_topic.topic == topic) return last_topic.slot;
  std::size_t slot = find_named(topic);
  if (slot == 0 && named_.load(std::memory_order_acquire) < max_topics_) {
    bool listed = false;
    for (const auto& glob : globs_) listed = listed || policy::glob_match(glob, topic);
    if (listed) {
      std::lock_guard lock(claim_mutex_);
      slot = find_named(topic);
      const std::size_t named = named_.load(std::memory_order_relaxed);
      if (slot == 0 && named < max_topics_) {
        slot = named + 1;
        names_[slot].assign(topic);  // once per labelled topic, at most max_topics in all
        named_.store(slot, std::memory_order_release);
      }
    }
  }
  // Names longer than Kafka allows are not cached, so the cache never allocates.
  if (topic.size() <= kMaxTopicNameBytes) {
    last_topic.instance = instance_;
    last_topic.topic.assign(topic);
    last_topic.slot = slot;
  }
  return slot;
}

void AcceptedByTopic::count(std::string_view topic, std::size_t value_bytes) noexcept {
  Slot& slot = slots_[slot_of(topic)];
  slot.records.fetch_add(1, std::memory_order_relaxed);
  slot.bytes.fetch_add(value_bytes, std::memory_order_relaxed);
}

std::string AcceptedByTopic::label_of(std::string_view topic) const { return names_[find_named(topic)]; }

metrics::MetricList AcceptedByTopic::families() { return kFamilies; }

void AcceptedByTopic::write(metrics::MetricSink& out) const {
  const std::size_t named = named_.load(std::memory_order_acquire);
  // Topic names are [a-zA-Z0-9._-] (names/topic_name.h): nothing to escape in a label.
  for (std::size_t i = 0; i <= named; ++i) {
    out.sample(kRecords, static_cast<double>(slots_[i].records.load(std::memory_order_relaxed)),
               "topic=\"" + names_[i] + "\"");
  }
  for (std::size_t i = 0; i <= named; ++i) {
    out.sample(kBytes, static_cast<double>(slots_[i].bytes.load(std::memory_order_relaxed)),
               "topic=\"" + names_[i] + "\"");
  }
}

}  // namespace intake::api
