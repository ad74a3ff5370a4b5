// KafkaProducer: the librdkafka producer behind RecordSink. librdkafka owns batching and
// retries; idempotence and acks=all mean a retried batch is never duplicated.
//
// The broker set can change live (set_brokers):
//  - brokers only added: the running producer learns them (rd_kafka_brokers_add);
//  - set shrinks or changes: a new producer on the new set becomes current, and the old one
//    is retired: its queued records are purged and handed over to the new one at once; its
//    in-flight records get `drain_grace` to complete, then they are purged and handed over
//    too (they may then arrive twice: at-least-once, never lost). Retired producers are
//    destroyed on their own thread once drained.
//
// A fatal error of the idempotent producer (a broken sequence, a fenced producer id) cannot be
// undone on its handle: the producer starts a fresh instance on the same brokers, retires the
// failed one (its records are handed over as above) and is not ready until the new one has
// reached a broker. Counted in fatal_recoveries, logged once per recovery.
//
// Threads: enqueue() from any thread, lock-free apart from librdkafka's own queue lock.
// set_brokers() and stop() from one control thread. Each producer instance has one poller
// thread serving delivery reports; stop() ends them after flushing.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "concurrency/shared_slot.h"
#include "kafka/producer_options.h"
#include "kafka/record_sink.h"
#include "metrics/histogram.h"

namespace intake::kafka {

struct ProducerCounters {
  std::atomic<std::uint64_t> enqueued{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};       // delivery failed after librdkafka's retries
  std::atomic<std::uint64_t> handed_over{0};  // moved from a retired producer to the current one
  std::atomic<std::uint64_t> producers_started{0};
  std::atomic<std::uint64_t> fatal_recoveries{0};  // fresh producers started after a fatal error
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(FailureReason::kCount_)> failed_by_reason{};
  // Records (and their key + value bytes) enqueued and not yet delivered or failed: in
  // librdkafka's queue or on the wire. A hand-over keeps a record in flight.
  std::atomic<std::int64_t> inflight_records{0};
  std::atomic<std::int64_t> inflight_bytes{0};
  // Delivered records' time from produce to Kafka's acknowledgement, as librdkafka measures it
  // (rd_kafka_message_latency: from the last produce call, a hand-over's for a handed-over
  // record). One shard: the poller threads are few and report in batches.
  metrics::HistogramSet produce_latency{metrics::kLatencyBoundsSeconds, 1, 1};
};

class ProducerInstance;

class KafkaProducer final : public RecordSink {
 public:
  // Throws std::runtime_error if librdkafka rejects the configuration (start-up only).
  explicit KafkaProducer(const kafka::ProducerOptions& settings);
  ~KafkaProducer() override;
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  Result<void> enqueue(const OutgoingRecord& record) override;
  // Size against the producer's message.max.bytes; an explicit partition against the topic's
  // partition count, and the topic against the ones the cluster said do not exist, from the
  // metadata the current producer refreshed last (every few seconds).
  Result<void> check(const OutgoingRecord& record) const override;
  bool ready() const override;

  // Raises a fatal idempotence error on the current producer, as the broker would (librdkafka's
  // rd_kafka_test_fatal_error), so fault tests can exercise the recovery. Not used in serving.
  void simulate_fatal_error();

  // Applies a new broker set ("host:port" each). Empty = keep the current set (a registry
  // that momentarily lists no broker must not strand the producer). Never blocks on Kafka.
  void set_brokers(const std::vector<std::string>& brokers);

  // The broker list the current producer was started with plus any added since.
  std::vector<std::string> brokers() const;

  // Where outcomes of async records go: failures (with the record, so it can be kept) and
  // deliveries of ticketed records. REQUIRES: called before the first enqueue(); outlives us.
  void set_async_listener(DeliveryListener* listener) { async_listener_ = listener; }

  // Stops accepting and flushes every producer for up to shutdown_flush_ms; records still
  // undelivered then are purged and reported (failed, reason purged) to their listeners.
  // Returns how many were purged. Idempotent.
  std::uint64_t stop();

  const ProducerCounters& counters() const { return counters_; }

  // The Kafka cluster's id (rd_kafka_clusterid), as the current producer's poller thread last
  // read it from its metadata (every few seconds); empty until a broker has answered. Never
  // blocks: safe on the request path.
  std::string cluster_id() const;

 private:
  friend class ProducerInstance;
  std::shared_ptr<ProducerInstance> start_instance(const std::vector<std::string>& brokers, bool recovering);
  // Called on a failed instance's own thread once it has a fatal error: starts a fresh instance
  // on its brokers and retires the failed one. No-op while stopping or once `failed` is no
  // longer current. Never blocks on stop() (which joins that thread).
  void replace_after_fatal(ProducerInstance* failed);
  // Re-produces a record (an rd_kafka_message_t) a retired instance gave back, with its key,
  // headers, partition and listener. Called on that instance's thread.
  void hand_over(const void* given_back);
  // Tells a record's outcome to its sync listener, or else to the async listener.
  void report(DeliveryListener* listener, const DeliveryReport& outcome);
  // A record (an rd_kafka_message_t) left flight: delivered, or failed for good.
  void settle_inflight(const void* reported);
  // Counts a failed record by reason; returns how many have failed so far.
  std::uint64_t count_failure(FailureReason reason);
  // The first failures and then one in a thousand, so a broker outage cannot flood the log.
  static bool worth_logging(std::uint64_t failed);

  kafka::ProducerOptions settings_;
  concurrency::SharedSlot<ProducerInstance> current_;
  std::atomic<bool> stopping_{false};
  concurrency::SharedSlot<const std::string> cluster_id_;  // null until learnt
  DeliveryListener* async_listener_ = nullptr;
  ProducerCounters counters_;
  // set_brokers/stop/brokers/replace_after_fatal; never taken by enqueue.
  mutable std::mutex control_mutex_;
  std::vector<std::shared_ptr<ProducerInstance>> retired_;
  std::uint64_t undelivered_at_stop_ = 0;
  bool stopped_ = false;
};

}  // namespace intake::kafka
