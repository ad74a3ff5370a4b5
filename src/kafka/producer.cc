#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

#include "policy/topic_name.h"

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

Error produce_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return make_error(ErrorCode::kBackpressure, "the gateway's Kafka queue is full; retry after a pause");
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return make_error(ErrorCode::kPayloadTooLarge, "the record is larger than Kafka accepts");
    case RD_KAFKA_RESP_ERR__FATAL:
      return make_error(ErrorCode::kKafkaUnavailable, "the Kafka producer hit a fatal error; retry later");
    default:
      return make_error(ErrorCode::kKafkaUnavailable, std::string("Kafka refused the record: ") + rd_kafka_err2str(err));
  }
}

// A record's librdkafka opaque: its sync listener, or its ticket tagged with the low bit (a
// listener pointer is aligned, so its low bit is 0), or nothing.
void* opaque_for(const OutgoingRecord& record) {
  static_assert(sizeof(void*) == sizeof(std::uint64_t), "tickets are carried in a pointer");
  if (record.listener != nullptr) return record.listener;
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

FailureReason classify(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return FailureReason::kTimedOut;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return FailureReason::kPurged;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return FailureReason::kTooLarge;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return FailureReason::kUnknownTopic;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return FailureReason::kNotAuthorized;
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
      return FailureReason::kInvalidRecord;
    case RD_KAFKA_RESP_ERR__FATAL:
      return FailureReason::kFatal;
    default:
      return FailureReason::kOther;
  }
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
    for (std::size_t i = 0; rd_kafka_header_get_all(message_headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
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
  return record;
}

}  // namespace

std::string_view failure_reason_name(FailureReason reason) {
  switch (reason) {
    case FailureReason::kTimedOut: return "timed_out";
    case FailureReason::kPurged: return "purged";
    case FailureReason::kTooLarge: return "too_large";
    case FailureReason::kUnknownTopic: return "unknown_topic";
    case FailureReason::kNotAuthorized: return "not_authorized";
    case FailureReason::kInvalidRecord: return "invalid_record";
    case FailureReason::kFatal: return "fatal";
    case FailureReason::kOther:
    case FailureReason::kCount_: break;
  }
  return "other";
}

// One librdkafka producer handle on one broker set, with the thread that serves it.
class ProducerInstance {
 public:
  ProducerInstance(KafkaProducer& owner, const config::KafkaSettings& settings, std::vector<std::string> brokers)
      : owner_(owner), brokers_(std::move(brokers)) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // Defaults first so the YAML's kafka.properties can override them.
    set_property(conf, "enable.idempotence", "true");  // implies acks=all and in-order retries
    set_property(conf, "acks", "all");
    set_property(conf, "linger.ms", std::to_string(settings.linger_ms));
    set_property(conf, "compression.type", settings.compression);
    set_property(conf, "batch.size", std::to_string(settings.batch_bytes));
    // The bounds on what the gateway holds for Kafka: past them, 429 backpressure (or the spool).
    set_property(conf, "queue.buffering.max.messages", std::to_string(settings.max_queued_records));
    set_property(conf, "queue.buffering.max.kbytes", std::to_string(std::max<std::uint64_t>(1, settings.max_queued_bytes / 1024)));
    set_property(conf, "message.timeout.ms", std::to_string(settings.delivery_timeout_ms));
    set_property(conf, "client.id", "intake");
    for (const auto& [name, value] : settings.properties) set_property(conf, name, value);
    set_property(conf, "bootstrap.servers", join(brokers_));
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
    poller_ = std::thread([this] { poll_loop(); });
  }

  ~ProducerInstance() {
    stop_polling_.store(true);
    if (poller_.joinable()) poller_.join();
    rd_kafka_destroy(handle_);
  }

  Result<void> produce(const OutgoingRecord& record) {
    // librdkafka wants a NUL-terminated topic name; names are short (<= 249), so a stack copy.
    char topic[policy::kMaxTopicNameLength + 1];
    const std::size_t topic_length = std::min(record.topic.size(), policy::kMaxTopicNameLength);
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
        RD_KAFKA_V_PARTITION(record.partition), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque_for(record)),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);  // ours again when produce fails
      return produce_error(err);
    }
    return {};
  }

  bool brokers_up() const { return brokers_up_.load(std::memory_order_relaxed); }
  const std::vector<std::string>& brokers() const { return brokers_; }

  // Adds brokers to the running handle. Control thread only.
  void add_brokers(const std::vector<std::string>& added) {
    rd_kafka_brokers_add(handle_, join(added).c_str());
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

 private:
  void poll_loop() {
    using Clock = std::chrono::steady_clock;
    auto next_probe = Clock::now();
    bool inflight_purged = false;
    while (!stop_polling_.load(std::memory_order_relaxed)) {
      rd_kafka_poll(handle_, 100);
      if (retired_.load() && !inflight_purged && Clock::now() >= retire_deadline_) {
        // In-flight records had their grace: give them (and anything enqueued during the
        // swap) to the current producer. They may arrive twice; they are not lost.
        rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        inflight_purged = true;
      }
      // After "all brokers down" nothing tells us they are back unless we ask: probe metadata.
      if (!brokers_up_.load(std::memory_order_relaxed) && !retired_.load() && Clock::now() >= next_probe) {
        const struct rd_kafka_metadata* metadata = nullptr;
        if (rd_kafka_metadata(handle_, 0, nullptr, &metadata, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          rd_kafka_metadata_destroy(metadata);
          brokers_up_.store(true, std::memory_order_relaxed);
          spdlog::info("kafka: brokers reachable again ({})", join(brokers_));
        }
        next_probe = Clock::now() + std::chrono::seconds(1);
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
      self->brokers_up_.store(true, std::memory_order_relaxed);
      // Plain async deliveries need no report: only sync listeners and spool tickets wait.
      if (listener != nullptr || ticket != 0) {
        owner.report(listener, {true, message->partition, message->offset, {}, FailureReason::kOther, ticket, nullptr});
      }
      return;
    }
    // A retired producer gives its records to the current one; a stopping one reports them.
    if (self->retired_.load() && !self->stopping_.load()) {
      owner.hand_over(message);
      return;
    }
    const FailureReason reason = classify(message->err);
    const auto failed = owner.counters_.failed.fetch_add(1, std::memory_order_relaxed) + 1;
    owner.counters_.failed_by_reason[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
    // Log the first failures and then a sample, so a broker outage cannot flood the log.
    if (failed <= 10 || failed % 1000 == 0) {
      spdlog::error("kafka: record to topic '{}' failed: {} ({}; {} failed so far)", rd_kafka_topic_name(message->rkt),
                    rd_kafka_err2str(message->err), failure_reason_name(reason), failed);
    }
    std::vector<RecordHeader> headers;
    const OutgoingRecord record = record_of(message, headers);
    owner.report(listener, {false,
                            -1,
                            -1,
                            Error{ErrorCode::kDeliveryFailed,
                                  std::string("Kafka did not take the record: ") + rd_kafka_err2str(message->err)},
                            reason,
                            ticket,
                            &record});
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<ProducerInstance*>(opaque);
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->brokers_up_.store(false, std::memory_order_relaxed);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char fatal_reason[512];
      const auto fatal = rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
      spdlog::critical("kafka: fatal producer error {}: {}", rd_kafka_err2name(fatal), fatal_reason);
      return;
    }
    if (!self->retired_.load()) spdlog::warn("kafka: {}: {}", rd_kafka_err2name(code), reason);
  }

  static void on_log(const rd_kafka_t* /*rk*/, int level, const char* facility, const char* text) {
    // Connection failures arrive through on_error too; log them once, there.
    if (std::strcmp(facility, "FAIL") == 0) {
      spdlog::debug("librdkafka {}: {}", facility, text);
    } else if (level <= 3) {
      spdlog::error("librdkafka {}: {}", facility, text);
    } else if (level <= 5) {
      spdlog::info("librdkafka {}: {}", facility, text);
    } else {
      spdlog::debug("librdkafka {}: {}", facility, text);
    }
  }

  KafkaProducer& owner_;
  std::vector<std::string> brokers_;  // control thread only
  rd_kafka_t* handle_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stop_polling_{false};
  std::atomic<bool> brokers_up_{true};
  std::atomic<bool> retired_{false};
  std::atomic<bool> stopping_{false};  // purging at shutdown: report, do not hand over
  std::chrono::steady_clock::time_point retire_deadline_{};
};

KafkaProducer::KafkaProducer(const config::KafkaSettings& settings) : settings_(settings) {
  auto brokers = split_brokers(settings_.bootstrap_servers);
  if (brokers.empty()) throw std::runtime_error("kafka.bootstrap_servers lists no broker");
  current_.store(start_instance(brokers));
}

KafkaProducer::~KafkaProducer() { stop(); }

std::shared_ptr<ProducerInstance> KafkaProducer::start_instance(const std::vector<std::string>& brokers) {
  auto instance = std::make_shared<ProducerInstance>(*this, settings_, brokers);
  counters_.producers_started.fetch_add(1, std::memory_order_relaxed);
  return instance;
}

Result<void> KafkaProducer::enqueue(const OutgoingRecord& record) {
  if (stopping_.load(std::memory_order_relaxed)) {
    return make_error(ErrorCode::kShuttingDown, "the gateway is shutting down; retry on another instance");
  }
  const auto instance = current_.load(std::memory_order_acquire);
  if (!instance->brokers_up()) {
    return make_error(ErrorCode::kKafkaUnavailable, "no Kafka broker is reachable; the record was not accepted, retry later");
  }
  auto produced = instance->produce(record);
  if (produced) counters_.enqueued.fetch_add(1, std::memory_order_relaxed);
  return produced;
}

bool KafkaProducer::ready() const {
  return !stopping_.load(std::memory_order_relaxed) && current_.load(std::memory_order_acquire)->brokers_up();
}

void KafkaProducer::hand_over(const void* given_back) {
  const auto* message = static_cast<const rd_kafka_message_t*>(given_back);
  std::vector<RecordHeader> headers;
  // The partition librdkafka chose (or the client named) is kept, so per-partition order holds
  // when the new producer talks to the same cluster. Listener and ticket travel along.
  const OutgoingRecord record = record_of(message, headers);
  auto produced = current_.load(std::memory_order_acquire)->produce(record);
  if (produced) {
    counters_.handed_over.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto failed = counters_.failed.fetch_add(1, std::memory_order_relaxed) + 1;
  counters_.failed_by_reason[static_cast<std::size_t>(FailureReason::kPurged)].fetch_add(1, std::memory_order_relaxed);
  spdlog::error("kafka: could not hand a record for '{}' over to the new producer: {} ({} failed so far)", record.topic,
                produced.error().message, failed);
  report(record.listener, {false, -1, -1, produced.error(), FailureReason::kPurged, record.ticket, &record});
}

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
  const std::set<std::string> have(current->brokers().begin(), current->brokers().end());
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
               join(current->brokers()), join(next_brokers));
  std::shared_ptr<ProducerInstance> next;
  try {
    next = start_instance(next_brokers);
  } catch (const std::exception& e) {
    spdlog::error("kafka: cannot start a producer on {}: {}; keeping the current one", join(next_brokers), e.what());
    return;
  }
  current_.store(next, std::memory_order_release);
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
