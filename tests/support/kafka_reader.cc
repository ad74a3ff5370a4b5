#include "kafka_reader.h"

#include <librdkafka/rdkafka.h>

#include <stdexcept>
#include <unistd.h>

namespace intake::testing {

std::vector<ConsumedRecord> consume_topic(const std::string& bootstrap, const std::string& topic,
                                          const std::function<bool(const std::vector<ConsumedRecord>&)>& enough,
                                          std::chrono::milliseconds timeout) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = "intake-test-" + std::to_string(::getpid()) + "-" + topic;
  for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
           {"bootstrap.servers", bootstrap},
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
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ConsumedRecord record;
      if (message->key) record.key.assign(static_cast<const char*>(message->key), message->key_len);
      if (message->payload) record.value.assign(static_cast<const char*>(message->payload), message->len);
      record.partition = message->partition;
      record.offset = message->offset;
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          record.headers.emplace_back(name, std::string(static_cast<const char*>(value), value ? size : 0));
        }
      }
      records.push_back(std::move(record));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return records;
}

}  // namespace intake::testing
