#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

#include "kafka/error_class.h"
#include "kafka/producer_properties.h"
#include "names/topic_name.h"

namespace intake::kafka {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> split_brokers(const std::string& csv) {
  std::set<std::string> unique;
  std::size_t start = 0;
  while (start <= csv.size()) {
    auto end = csv.find(',', start);
    if (end == std::string::npos) end = csv.size();
    std::string item = csv.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) unique.insert(item);
    start = end + 1;
  }
  return {unique.begin(), unique.end()};
}

void set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error("kafka.properties." + name + ": " + errstr);
  }
}

// A record's librdkafka opaque: its sync listener, or its ticket tagged with the low bit (a
// listener pointer is aligned, so its low bit is 0), or nothing.
void* opaque_for(const OutgoingRecord& record) {
  static_assert(sizeof(void*) == sizeof(std::uint64_t), "tickets are carried in a pointer");
  if (record.listener != nullptr) return record.listener;
  // NOLINTNEXTLINE(performance-no-int-to-ptr): the opaque is librdkafka's only per-record slot.
  if (record.ticket != 0) return reinterpret_cast<void*>(static_cast<std::uintptr_t>(record.ticket << 1 | 1u));
  return nullptr;
}

DeliveryListener* listener_of(void* opaque) {
  const auto bits = reinterpret_cast<std::uintptr_t>(opaque);
  return (bits & 1u) != 0 ? nullptr : static_cast<DeliveryListener*>(opaque);
}

std::uint64_t ticket_of(void* opaque) {
  const auto bits = reinterpret_cast<std::uintptr_t>(opaque);
  return (bits & 1u) != 0 ? static_cast<std::uint64_t>(bits >> 1) : 0;
}

// What the cluster's metadata said of the topics this producer uses: partition count, or -1
// for a topic the cluster says does not exist. Immutable once published.
using TopicPartitions = absl::flat_hash_map<std::string, std::int32_t>;

constexpr auto kMetadataRefreshEvery = std::chrono::seconds(5);

std::size_t record_bytes(const OutgoingRecord& record) {
  std::size_t bytes = record.value.size() + record.key.size();
  for (const auto& header : record.headers) bytes += header.name.size() + header.value.size();
  return bytes;
}

// The OutgoingRecord a delivered-or-failed message was made from. `headers` holds the header
// views; both stay valid while `message` does.
OutgoingRecord record_of(const rd_kafka_message_t* message, std::vector<RecordHeader>& headers) {
  headers.clear();
  rd_kafka_headers_t* message_headers = nullptr;
  // rd_kafka_message_headers wants a non-const message but only reads it.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(message), &message_headers) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0;
         rd_kafka_header_get_all(message_headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      headers.push_back({name, {static_cast<const char*>(value), value ? size : 0}});
    }
  }
  OutgoingRecord record{rd_kafka_topic_name(message->rkt),
                        {static_cast<const char*>(message->key), message->key ? message->key_len : 0},
                        {static_cast<const char*>(message->payload), message->payload ? message->len : 0},
                        message->partition,
                        headers,
                        listener_of(message->_private)};
  record.ticket = ticket_of(message->_private);
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(message, &type);
  if (type == RD_KAFKA_TIMESTAMP_CREATE_TIME && timestamp > 0) record.timestamp_ms = timestamp;
  return record;
}

}  // namespace

std::string_view failure_reason_name(FailureReason reason) {
  switch (reason) {
    case FailureReason::kTimedOut:
      return "timed_out";
    case FailureReason::kPurged:
      return "purged";
    case FailureReason::kHandOverFailed:
      return "hand_over_failed";
    case FailureReason::kBrokerUnavailable:
      return "broker_unavailable";
    case FailureReason::kQueueFull:
      return "queue_full";
    case FailureReason::kUnknownPartition:
      return "unknown_partition";
    case FailureReason::kTooLarge:
      return "too_large";
    case FailureReason::kUnknownTopic:
      return "unknown_topic";
    case FailureReason::kNotAuthorized:
      return "not_authorized";
    case FailureReason::kInvalidRecord:
      return "invalid_record";
    case FailureReason::kFatal:
      return "fatal";
    case FailureReason::kOther:
    case FailureReason::kCount_:
      break;
  }
  return "other";
}

// One librdkafka producer handle on one broker set, with the thread that serves it.
class ProducerInstance {
 public:
  // `recovering`: started after a fatal error; not ready until it has reached a broker.
  ProducerInstance(KafkaProducer& owner, const kafka::ProducerOptions& settings, std::vector<std::string> brokers,
                   bool recovering)
      : owner_(owner), brokers_(std::move(brokers)), brokers_up_(!recovering) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [name, value] : producer_properties(settings, "intake")) set_property(conf, name, value);
    set_property(conf, "bootstrap.servers", join(brokers_));
    max_record_bytes_ = conf_integer(conf, "message.max.bytes");
    // librdkafka turns the property's default (false) into true for a producer only later, in
    // rd_kafka_new: what counts is whether the YAML set it.
    for (const auto& [name, value] : settings.properties) {
      if (name == "allow.auto.create.topics") auto_create_topics_ = value == "true";
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &ProducerInstance::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &ProducerInstance::on_error);
    rd_kafka_conf_set_log_cb(conf, &ProducerInstance::on_log);
    char errstr[512];
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (handle_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("cannot create the Kafka producer: ") + errstr);
    }
    topics_.store(std::make_shared<const TopicPartitions>());
    poller_ = std::thread([this] { poll_loop(); });
  }

  ~ProducerInstance() {
    stop_polling_.store(true);
    if (poller_.joinable()) poller_.join();
    rd_kafka_destroy(handle_);
  }

  Result<void> produce(const OutgoingRecord& record) {
    const auto err = produce_raw(record);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    return error_for(err, record);
  }

  // The client-facing error for `err` on `record`, naming the topic's partition count when
  // metadata knows it.
  Error error_for(rd_kafka_resp_err_t err, const OutgoingRecord& record) const {
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      refresh_metadata_.store(true, std::memory_order_relaxed);
    }
    return kafka_error(err, {record.topic, record.partition, partition_count(record.topic)});
  }

  rd_kafka_resp_err_t produce_raw(const OutgoingRecord& record) {
    // librdkafka wants a NUL-terminated topic name; names are short (<= 249), so a stack copy.
    char topic[names::kMaxTopicNameLength + 1];
    const std::size_t topic_length = std::min(record.topic.size(), names::kMaxTopicNameLength);
    std::memcpy(topic, record.topic.data(), topic_length);
    topic[topic_length] = '\0';
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const auto& header : record.headers) {
        rd_kafka_header_add(headers, header.name.data(), static_cast<ssize_t>(header.name.size()), header.value.data(),
                            static_cast<ssize_t>(header.value.size()));
      }
    }
    const auto err = rd_kafka_producev(
        handle_, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data()), record.value.size()),
        RD_KAFKA_V_KEY(record.key.empty() ? nullptr : record.key.data(), record.key.size()),
        RD_KAFKA_V_PARTITION(record.partition), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_OPAQUE(opaque_for(record)), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
      rd_kafka_headers_destroy(headers);  // ours again when produce fails
    }
    return err;
  }

  // See KafkaProducer::check.
  Result<void> check(const OutgoingRecord& record) const {
    if (max_record_bytes_ > 0 && record_bytes(record) > max_record_bytes_) {
      return error_for(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, record);
    }
    const auto topics = topics_.load();
    const auto known = topics->find(absl::string_view(record.topic.data(), record.topic.size()));
    if (known == topics->end()) {
      // A topic this producer has not asked about yet: learn it soon, for the next record.
      refresh_metadata_.store(true, std::memory_order_relaxed);
      return {};
    }
    if (known->second < 0) {
      refresh_metadata_.store(true, std::memory_order_relaxed);  // it may have been created since
      return kafka_error(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, {record.topic, record.partition, -1});
    }
    if (record.partition >= known->second) {
      return kafka_error(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, {record.topic, record.partition, known->second});
    }
    return {};
  }

  bool brokers_up() const { return brokers_up_.load(std::memory_order_relaxed); }
  bool fatal() const { return rd_kafka_fatal_error(handle_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR; }
  bool retired() const { return retired_.load(); }
  int outstanding() const { return rd_kafka_outq_len(handle_); }

  std::vector<std::string> brokers() const {
    std::lock_guard lock(brokers_mutex_);
    return brokers_;
  }

  // Adds brokers to the running handle. Control thread only.
  void add_brokers(const std::vector<std::string>& added) {
    rd_kafka_brokers_add(handle_, join(added).c_str());
    std::lock_guard lock(brokers_mutex_);
    std::set<std::string> all(brokers_.begin(), brokers_.end());
    all.insert(added.begin(), added.end());
    brokers_.assign(all.begin(), all.end());
  }

  // From now on every record this instance gives back goes to the owner's current producer.
  // Queued records are purged (and so handed over) at once; in-flight ones after `grace`.
  void retire(std::chrono::milliseconds grace) {
    retire_deadline_ = std::chrono::steady_clock::now() + grace;
    retired_.store(true);
    rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE);
  }

  // True once a retired instance has nothing left: it may be destroyed.
  bool drained() const { return retired_.load() && rd_kafka_outq_len(handle_) == 0; }

  // Flushes for up to `timeout`; what is still undelivered then is purged, so its delivery
  // report (an error) reaches its listener, which may keep the record (the spool). Returns
  // how many records were purged.
  std::uint64_t flush(std::chrono::milliseconds timeout) {
    stop_polling_.store(true);
    if (poller_.joinable()) poller_.join();
    rd_kafka_flush(handle_, static_cast<int>(timeout.count()));  // serves delivery reports itself
    const auto left = static_cast<std::uint64_t>(std::max(0, rd_kafka_outq_len(handle_)));
    if (left == 0) return 0;
    stopping_.store(true);
    rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Purged records' reports are served by polling; in-flight ones come back once their
    // requests are abandoned, which takes a moment.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (rd_kafka_outq_len(handle_) > 0 && std::chrono::steady_clock::now() < deadline) rd_kafka_poll(handle_, 50);
    return left;
  }

  void simulate_fatal_error() {
    rd_kafka_test_fatal_error(handle_, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "simulated by a fault test");
  }

 private:
  static std::string conf_text(rd_kafka_conf_t* conf, const char* name) {
    char value[64];
    std::size_t size = sizeof(value);
    if (rd_kafka_conf_get(conf, name, value, &size) != RD_KAFKA_CONF_OK) return {};
    return value;
  }
  static std::size_t conf_integer(rd_kafka_conf_t* conf, const char* name) {
    return static_cast<std::size_t>(std::strtoull(conf_text(conf, name).c_str(), nullptr, 10));
  }

  std::int32_t partition_count(std::string_view topic) const {
    const auto topics = topics_.load();
    const auto known = topics->find(absl::string_view(topic.data(), topic.size()));
    return known == topics->end() ? -1 : known->second;
  }

  // Asks the cluster about the topics this producer has used (librdkafka's "locally known"
  // topics) and publishes their partition counts; a topic the cluster does not have is kept
  // as -1. Also refreshes librdkafka's own view, so a topic created later is seen.
  void refresh_topics() {
    const struct rd_kafka_metadata* metadata = nullptr;
    if (rd_kafka_metadata(handle_, 0, nullptr, &metadata, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto topics = std::make_shared<TopicPartitions>();
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      const auto& topic = metadata->topics[i];
      if (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR && topic.partition_cnt > 0) {
        (*topics)[topic.topic] = topic.partition_cnt;
      } else if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && !auto_create_topics_) {
        // Only then is "not in the metadata" an answer: this informational request never
        // creates topics, while the first produce to one does when auto-creation is on.
        (*topics)[topic.topic] = -1;
      }
    }
    rd_kafka_metadata_destroy(metadata);
    topics_.store(std::shared_ptr<const TopicPartitions>(std::move(topics)));
  }

  // The cluster id from the metadata librdkafka holds (timeout 0: never waits for a broker),
  // published when it is new or has changed (a broker set on another cluster).
  void learn_cluster_id() {
    char* id = rd_kafka_clusterid(handle_, 0);
    if (id == nullptr) return;
    const auto known = owner_.cluster_id_.load();
    if (known == nullptr || *known != id) {
      owner_.cluster_id_.store(std::make_shared<const std::string>(id));
    }
    rd_kafka_mem_free(handle_, id);
  }

  void poll_loop() {
    using Clock = std::chrono::steady_clock;
    auto next_probe = Clock::now();
    auto next_refresh = Clock::now() + std::chrono::milliseconds(200);
    auto last_refresh = Clock::now();
    bool inflight_purged = false;
    while (!stop_polling_.load(std::memory_order_relaxed)) {
      rd_kafka_poll(handle_, 100);
      if (retired_.load()) {
        if (!inflight_purged && Clock::now() >= retire_deadline_) {
          // In-flight records had their grace: give them (and anything enqueued during the
          // swap) to the current producer. They may arrive twice; they are not lost.
          rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
          inflight_purged = true;
        }
        continue;
      }
      if (fatal()) {
        owner_.replace_after_fatal(this);
        continue;
      }
      // After "all brokers down" nothing tells us they are back unless we ask: probe metadata.
      if (!brokers_up_.load(std::memory_order_relaxed) && Clock::now() >= next_probe) {
        const struct rd_kafka_metadata* metadata = nullptr;
        if (rd_kafka_metadata(handle_, 0, nullptr, &metadata, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_metadata_destroy(metadata);
          brokers_up_.store(true, std::memory_order_relaxed);
          spdlog::info("kafka: brokers reachable ({})", join(brokers()));
        }
        next_probe = Clock::now() + std::chrono::seconds(1);
      }
      // Every few seconds, or soon after a record named a topic or partition metadata lacks
      // (at most every 250 ms, so unknown topics cannot turn this into a metadata storm).
      const auto now = Clock::now();
      if (brokers_up_.load(std::memory_order_relaxed) &&
          (now >= next_refresh || (now >= last_refresh + std::chrono::milliseconds(250) &&
                                   refresh_metadata_.exchange(false, std::memory_order_relaxed)))) {
        refresh_topics();
        learn_cluster_id();
        last_refresh = Clock::now();
        next_refresh = last_refresh + kMetadataRefreshEvery;
      }
    }
  }

  // Runs on this instance's poller (or flush) thread for every record, delivered or not.
  static void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<ProducerInstance*>(opaque);
    auto& owner = self->owner_;
    auto* listener = listener_of(message->_private);
    const std::uint64_t ticket = ticket_of(message->_private);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      owner.counters_.delivered.fetch_add(1, std::memory_order_relaxed);
      owner.settle_inflight(message);
      if (const auto latency_us = rd_kafka_message_latency(message); latency_us >= 0) {
        owner.counters_.produce_latency.observe(0, 0, std::chrono::microseconds(latency_us));
      }
      self->brokers_up_.store(true, std::memory_order_relaxed);
      // Plain async deliveries need no report: only sync listeners and spool tickets wait.
      if (listener != nullptr || ticket != 0) {
        DeliveryReport report{true, message->partition, message->offset, {}, FailureReason::kOther, ticket, nullptr};
        report.timestamp_ms = rd_kafka_message_timestamp(message, nullptr);
        owner.report(listener, report);
      }
      return;
    }
    // librdkafka may report the records of a fatally failed handle before its error event:
    // replace it first, so they are handed over rather than reported.
    if (!self->stopping_.load() && !self->retired_.load() && self->fatal()) owner.replace_after_fatal(self);
    // A retired producer gives its records to the current one; a stopping one reports them.
    if (self->retired_.load() && !self->stopping_.load()) {
      owner.hand_over(message);
      return;
    }
    owner.settle_inflight(message);
    FailureReason reason = classify_kafka_error(message->err).reason;
    // Only shutdown purges wait on disk for the next start; any other purge is run-time.
    if (reason == FailureReason::kPurged && !self->stopping_.load()) reason = FailureReason::kHandOverFailed;
    const auto failed = owner.count_failure(reason);
    if (KafkaProducer::worth_logging(failed)) {
      spdlog::error("kafka: record to topic '{}' failed: {} ({}; {} failed so far)", rd_kafka_topic_name(message->rkt),
                    rd_kafka_err2str(message->err), failure_reason_name(reason), failed);
    }
    std::vector<RecordHeader> headers;
    const OutgoingRecord record = record_of(message, headers);
    owner.report(listener, {false, -1, -1, self->error_for(message->err, record), reason, ticket, &record});
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<ProducerInstance*>(opaque);
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->brokers_up_.store(false, std::memory_order_relaxed);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal_reason[512];
      const auto fatal = rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
      spdlog::critical("kafka: fatal producer error {}: {}", rd_kafka_err2name(fatal), fatal_reason);
      if (!self->stopping_.load()) self->owner_.replace_after_fatal(self);
      return;
    }
    if (!self->retired_.load()) spdlog::warn("kafka: {}: {}", rd_kafka_err2name(code), reason);
  }

  static void on_log(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* text) {
    // Connection failures arrive through on_error too; log them once, there.
    const bool failure = std::strcmp(facility, "FAIL") == 0;
    if (!failure && level <= 3) {
      spdlog::error("librdkafka {}: {}", facility, text);
    } else if (!failure && level <= 5) {
      spdlog::info("librdkafka {}: {}", facility, text);
    } else {
      spdlog::debug("librdkafka {}: {}", facility, text);
    }
  }

  KafkaProducer& owner_;
  mutable std::mutex brokers_mutex_;  // brokers_: written by the control thread, read anywhere
  std::vector<std::string> brokers_;
  rd_kafka_t* handle_ = nullptr;
  std::size_t max_record_bytes_ = 0;  // the producer's message.max.bytes
  bool auto_create_topics_ = true;    // allow.auto.create.topics: a first write creates a topic
  concurrency::SharedSlot<const TopicPartitions> topics_;
  mutable std::atomic<bool> refresh_metadata_{false};
  std::thread poller_;
  std::atomic<bool> stop_polling_{false};
  std::atomic<bool> brokers_up_{true};
  std::atomic<bool> retired_{false};
  std::atomic<bool> stopping_{false};  // purging at shutdown: report, do not hand over
  std::chrono::steady_clock::time_point retire_deadline_{};
};

KafkaProducer::KafkaProducer(const kafka::ProducerOptions& settings) : settings_(settings) {
  auto brokers = split_brokers(settings_.bootstrap_servers);
  if (brokers.empty()) throw std::runtime_error("kafka.bootstrap_servers lists no broker");
  current_.store(start_instance(brokers, false));
}

KafkaProducer::~KafkaProducer() { stop(); }

std::shared_ptr<ProducerInstance> KafkaProducer::start_instance(const std::vector<std::string>& brokers,
                                                                bool recovering) {
  auto instance = std::make_shared<ProducerInstance>(*this, settings_, brokers, recovering);
  counters_.producers_started.fetch_add(1, std::memory_order_relaxed);
  return instance;
}

Result<void> KafkaProducer::enqueue(const OutgoingRecord& record) {
  if (stopping_.load(std::memory_order_relaxed)) {
    return make_error(ErrorCode::kShuttingDown, "the gateway is shutting down; retry on another instance");
  }
  const auto instance = current_.load();
  if (!instance->brokers_up()) {
    return make_error(ErrorCode::kKafkaUnavailable,
                      "no Kafka broker is reachable; the record was not accepted, retry later");
  }
  auto produced = instance->produce(record);
  if (produced) {
    counters_.enqueued.fetch_add(1, std::memory_order_relaxed);
    counters_.inflight_records.fetch_add(1, std::memory_order_relaxed);
    counters_.inflight_bytes.fetch_add(static_cast<std::int64_t>(record.key.size() + record.value.size()),
                                       std::memory_order_relaxed);
  }
  return produced;
}

Result<void> KafkaProducer::check(const OutgoingRecord& record) const { return current_.load()->check(record); }

std::string KafkaProducer::cluster_id() const {
  const auto id = cluster_id_.load();
  return id == nullptr ? std::string() : *id;
}

bool KafkaProducer::ready() const {
  return !stopping_.load(std::memory_order_relaxed) && current_.load()->brokers_up();
}

void KafkaProducer::simulate_fatal_error() { current_.load()->simulate_fatal_error(); }

void KafkaProducer::replace_after_fatal(ProducerInstance* failed) {
  // stop() holds control_mutex_ while it joins this very thread: never wait for it blindly.
  std::unique_lock lock(control_mutex_, std::defer_lock);
  while (!lock.try_lock()) {
    if (stopping_.load()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (stopping_.load() || stopped_) return;
  const auto current = current_.load();
  if (current.get() != failed || failed->retired()) return;
  const auto brokers = current->brokers();
  std::shared_ptr<ProducerInstance> next;
  try {
    next = start_instance(brokers, true);
  } catch (const std::exception& e) {
    spdlog::error("kafka: cannot start a fresh producer after a fatal error: {}; records wait for the next try",
                  e.what());
    return;
  }
  counters_.fatal_recoveries.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn(
      "kafka: the producer had a fatal error; started a fresh one on {} and handing its {} records over "
      "(not ready until it reaches a broker)",
      join(brokers), failed->outstanding());
  current_.store(next);
  current->retire(std::chrono::milliseconds(0));
  retired_.push_back(current);
}

void KafkaProducer::hand_over(const void* given_back) {
  const auto* message = static_cast<const rd_kafka_message_t*>(given_back);
  std::vector<RecordHeader> headers;
  // The partition librdkafka chose (or the client named) is kept, so per-partition order holds
  // when the new producer talks to the same cluster. Listener and ticket travel along.
  const OutgoingRecord record = record_of(message, headers);
  const auto current = current_.load();
  const auto err = current->produce_raw(record);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    counters_.handed_over.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Not taken now (e.g. the new producer's queue is full): a run-time failure, so a spool
  // keeps the record at once. Kafka refusing it for good stays a permanent failure.
  settle_inflight(message);
  FailureReason reason = classify_kafka_error(err).reason;
  if (retriable(reason)) reason = FailureReason::kHandOverFailed;
  const auto failed = count_failure(reason);
  const Error error = current->error_for(err, record);
  if (worth_logging(failed)) {
    spdlog::error("kafka: could not hand a record for '{}' over to the new producer: {} ({} failed so far)",
                  record.topic, error.message, failed);
  }
  report(record.listener, {false, -1, -1, error, reason, record.ticket, &record});
}

void KafkaProducer::settle_inflight(const void* reported) {
  const auto* message = static_cast<const rd_kafka_message_t*>(reported);
  counters_.inflight_records.fetch_sub(1, std::memory_order_relaxed);
  counters_.inflight_bytes.fetch_sub(static_cast<std::int64_t>(message->len + message->key_len),
                                     std::memory_order_relaxed);
}

std::uint64_t KafkaProducer::count_failure(FailureReason reason) {
  counters_.failed_by_reason[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  return counters_.failed.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool KafkaProducer::worth_logging(std::uint64_t failed) { return failed <= 10 || failed % 1000 == 0; }

void KafkaProducer::report(DeliveryListener* listener, const DeliveryReport& outcome) {
  if (listener != nullptr) {
    listener->on_delivery(outcome);
  } else if (async_listener_ != nullptr) {
    async_listener_->on_delivery(outcome);
  }
}

void KafkaProducer::set_brokers(const std::vector<std::string>& wanted_list) {
  std::lock_guard lock(control_mutex_);
  if (stopped_) return;
  // Retired producers that finished draining are destroyed here, off the request path.
  std::erase_if(retired_, [](const auto& instance) { return instance->drained() && instance.use_count() == 1; });
  if (wanted_list.empty()) {
    spdlog::debug("kafka: the registry lists no broker; keeping {}", join(current_.load()->brokers()));
    return;
  }
  const std::set<std::string> wanted(wanted_list.begin(), wanted_list.end());
  const auto current = current_.load();
  const auto current_brokers = current->brokers();
  const std::set<std::string> have(current_brokers.begin(), current_brokers.end());
  if (wanted == have) return;
  if (std::includes(wanted.begin(), wanted.end(), have.begin(), have.end())) {
    std::vector<std::string> added;
    std::set_difference(wanted.begin(), wanted.end(), have.begin(), have.end(), std::back_inserter(added));
    spdlog::info("kafka: adding brokers {} to the running producer", join(added));
    current->add_brokers(added);
    return;
  }
  const std::vector<std::string> next_brokers(wanted.begin(), wanted.end());
  spdlog::info("kafka: broker set changed from {} to {}: starting a new producer, draining the old one",
               join(current_brokers), join(next_brokers));
  std::shared_ptr<ProducerInstance> next;
  try {
    next = start_instance(next_brokers, false);
  } catch (const std::exception& e) {
    spdlog::error("kafka: cannot start a producer on {}: {}; keeping the current one", join(next_brokers), e.what());
    return;
  }
  current_.store(next);
  current->retire(std::chrono::milliseconds(settings_.drain_grace_ms));
  retired_.push_back(current);
}

std::vector<std::string> KafkaProducer::brokers() const {
  std::lock_guard lock(control_mutex_);
  return current_.load()->brokers();
}

std::uint64_t KafkaProducer::stop() {
  std::lock_guard lock(control_mutex_);
  if (stopped_) return undelivered_at_stop_;
  stopped_ = true;
  stopping_.store(true, std::memory_order_relaxed);
  const auto timeout = std::chrono::milliseconds(settings_.shutdown_flush_ms);
  // Retired producers first: whatever they give back lands in the current one, flushed last.
  for (auto& instance : retired_) undelivered_at_stop_ += instance->flush(timeout);
  undelivered_at_stop_ += current_.load()->flush(timeout);
  if (undelivered_at_stop_ > 0) {
    spdlog::warn("kafka: {} records still undelivered after {} ms of flushing; reported to their listeners",
                 undelivered_at_stop_, settings_.shutdown_flush_ms);
  }
  return undelivered_at_stop_;
}

}  // namespace intake::kafka
