#include "kafka_reader.h"

#include <librdkafka/rdkafka.h>

#include <unistd.h>
#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>

namespace intake::testing {

namespace {

ConsumedRecord to_record(const rd_kafka_message_t* message) {
  ConsumedRecord record;
  if (message->key) record.key.assign(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) record.value.assign(static_cast<const char*>(message->payload), message->len);
  record.partition = message->partition;
  record.offset = message->offset;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(message), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers.emplace_back(name, std::string(static_cast<const char*>(value), value ? size : 0));
    }
  }
  return record;
}

}  // namespace

std::vector<ConsumedRecord> consume_to_end(const std::string& bootstrap, const std::string& topic,
                                           std::chrono::milliseconds timeout) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] :
       std::initializer_list<std::pair<const char*, std::string>>{{"bootstrap.servers", bootstrap},
                                                                  {"enable.auto.commit", "false"},
                                                                  {"isolation.level", "read_committed"},
                                                                  {"group.id", "intake-test-reader"}}) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(std::string("consumer config ") + name + ": " + errstr);
    }
  }
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (consumer == nullptr) throw std::runtime_error(std::string("consumer: ") + errstr);
  struct Closer {
    rd_kafka_t* consumer;
    ~Closer() {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
  } closer{consumer};

  rd_kafka_topic_t* handle = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
  const struct rd_kafka_metadata* metadata = nullptr;
  const auto err = rd_kafka_metadata(consumer, 0, handle, &metadata, 10'000);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || metadata->topic_cnt != 1 ||
      metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    throw std::runtime_error("consume_to_end: no metadata for topic '" + topic + "'");
  }
  const int partitions = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);

  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  std::vector<std::int64_t> end(static_cast<std::size_t>(partitions), 0);
  int unfinished = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(consumer, topic.c_str(), p, &low, &high, 10'000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assignment);
      throw std::runtime_error("consume_to_end: no watermarks for " + topic + "/" + std::to_string(p));
    }
    end[static_cast<std::size_t>(p)] = high;
    if (high > low) {
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = low;
      ++unfinished;
    }
  }
  rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);

  std::vector<ConsumedRecord> records;
  std::vector<std::int64_t> next(static_cast<std::size_t>(partitions), 0);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (unfinished > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("consume_to_end: " + topic + " not read to its end in time");
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 200);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->partition >= 0 && message->partition < partitions) {
      const auto p = static_cast<std::size_t>(message->partition);
      if (message->offset < end[p]) records.push_back(to_record(message));
      // Offsets can skip (transaction markers): the end is reached at the watermark or past it.
      if (next[p] < end[p] && message->offset + 1 >= end[p]) --unfinished;
      next[p] = message->offset + 1;
    }
    rd_kafka_message_destroy(message);
  }
  return records;
}

DeliveryCount count_delivery(const std::string& bootstrap, const std::string& topic,
                             const std::set<std::string>& accepted, std::chrono::milliseconds timeout) {
  std::map<std::string, int> seen;
  std::size_t consumed = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    seen.clear();
    consumed = 0;
    try {
      for (const auto& record : consume_to_end(bootstrap, topic)) {
        ++seen[record.value];
        ++consumed;
      }
    } catch (const std::exception&) {
      // The topic is not there yet: its first record is still on its way.
    }
    const bool all_there =
        std::all_of(accepted.begin(), accepted.end(), [&](const auto& v) { return seen.count(v) > 0; });
    if (all_there || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  DeliveryCount count;
  count.consumed = consumed;
  for (const auto& value : accepted) count.lost += seen.count(value) ? 0 : 1;
  for (const auto& [value, times] : seen) {
    count.duplicated += times > 1 ? 1 : 0;
    count.unexpected += accepted.count(value) ? 0 : 1;
  }
  return count;
}

std::vector<ConsumedRecord> consume_topic(const std::string& bootstrap, const std::string& topic,
                                          const std::function<bool(const std::vector<ConsumedRecord>&)>& enough,
                                          std::chrono::milliseconds timeout) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = "intake-test-" + std::to_string(::getpid()) + "-" + topic;
  for (const auto& [name, value] :
       std::initializer_list<std::pair<const char*, std::string>>{{"bootstrap.servers", bootstrap},
                                                                  {"group.id", group},
                                                                  {"auto.offset.reset", "earliest"},
                                                                  {"enable.auto.commit", "false"},
                                                                  {"isolation.level", "read_committed"}}) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(std::string("consumer config ") + name + ": " + errstr);
    }
  }
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (consumer == nullptr) throw std::runtime_error(std::string("consumer: ") + errstr);
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);

  std::vector<ConsumedRecord> records;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!enough(records) && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 200);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) records.push_back(to_record(message));
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return records;
}

}  // namespace intake::testing
