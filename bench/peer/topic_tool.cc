// Kafka chores of the peer benchmark, with librdkafka:
//   topic_tool create --bootstrap B [--partitions 3] TOPIC...
//       creates the topics (an existing one is fine) and waits until each partition has a
//       leader, so no server under test meets a topic that does not exist yet (lua-resty-kafka's
//       async producer answers OK and then drops records for such a topic).
//   topic_tool count --bootstrap B TOPIC
//       reads the topic from its beginning to its end and prints
//       {"topic":..,"records":N,"distinct_values":D,"watermark_records":W}: what really is in
//       Kafka (records the server answered OK to but never delivered are missing here), how many
//       different values (every record the benchmark sends has a unique id, so records minus
//       distinct values are duplicates), and the sum of high minus low watermarks as a check.
// Exit 0 on success; errors go to stderr.
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tool_main.h"

namespace {

using Clock = std::chrono::steady_clock;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(std::string(name) + ": " + errstr);
  }
}

Handle make_handle(rd_kafka_type_t type, const std::string& bootstrap) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "client.id", "bench-topic-tool");
  if (type == RD_KAFKA_CONSUMER) {
    set(conf, "group.id", "bench-topic-tool-" + std::to_string(::getpid()));
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.partition.eof", "true");
    set(conf, "max.partition.fetch.bytes", std::to_string(4 << 20));
    set(conf, "queued.max.messages.kbytes", "16384");
  }
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
  }
  return Handle(rk);
}

// Partition count of `topic` once every partition has a leader; 0 while it has not.
int ready_partitions(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, 5000);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  int partitions = 0;
  if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    partitions = metadata->topics[0].partition_cnt;
    for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) {
      if (metadata->topics[0].partitions[i].leader < 0) partitions = 0;
    }
  }
  rd_kafka_metadata_destroy(metadata);
  return partitions;
}

// Low and high watermarks of one partition, retried while the broker is still settling a new
// topic (it can name a leader before that leader answers ListOffsets: "Not leader for partition").
rd_kafka_resp_err_t watermarks(rd_kafka_t* rk, const std::string& topic, int partition, std::int64_t& low,
                               std::int64_t& high, Clock::time_point deadline) {
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, 5000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || Clock::now() > deadline) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

int create(const std::string& bootstrap, const std::vector<std::string>& topics, int partitions, double timeout_s) {
  Handle rk = make_handle(RD_KAFKA_PRODUCER, bootstrap);
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  char errstr[512];
  for (const auto& topic : topics) {
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof(errstr));
    if (t == nullptr) throw std::runtime_error(topic + ": " + errstr);
    new_topics.push_back(t);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_CreateTopics(rk.get(), new_topics.data(), new_topics.size(), nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout_s * 1000));
  int failures = 0;
  if (event == nullptr) {
    std::cerr << "topic_tool: CreateTopics got no answer in " << timeout_s << " s\n";
    failures = 1;
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::cerr << "topic_tool: CreateTopics: " << rd_kafka_event_error_string(event) << "\n";
    failures = 1;
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        std::cerr << "topic_tool: " << rd_kafka_topic_result_name(results[i]) << ": "
                  << rd_kafka_topic_result_error_string(results[i]) << "\n";
        ++failures;
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
  if (failures > 0) return 1;

  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (const auto& topic : topics) {
    while (ready_partitions(rk.get(), topic) != partitions) {
      if (Clock::now() > deadline) {
        std::cerr << "topic_tool: " << topic << " has no leader for every partition after " << timeout_s << " s\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int p = 0; p < partitions; ++p) {
      std::int64_t low = 0, high = 0;
      const rd_kafka_resp_err_t err = watermarks(rk.get(), topic, p, low, high, deadline);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::cerr << "topic_tool: " << topic << "/" << p << " does not answer ListOffsets: " << rd_kafka_err2str(err)
                  << "\n";
        return 1;
      }
    }
  }
  return 0;
}

int count(const std::string& bootstrap, const std::string& topic, double timeout_s) {
  Handle rk = make_handle(RD_KAFKA_CONSUMER, bootstrap);
  const int partitions = ready_partitions(rk.get(), topic);
  if (partitions == 0) {
    std::cerr << "topic_tool: topic " << topic << " not found (or a partition has no leader)\n";
    return 1;
  }
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  std::vector<std::int64_t> high(static_cast<std::size_t>(partitions), 0);
  std::int64_t watermark_records = 0;
  int partitions_left = 0;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    const rd_kafka_resp_err_t err = watermarks(rk.get(), topic, p, low, high[static_cast<std::size_t>(p)], deadline);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "topic_tool: watermarks of " << topic << "/" << p << ": " << rd_kafka_err2str(err) << "\n";
      rd_kafka_topic_partition_list_destroy(assignment);
      return 1;
    }
    watermark_records += high[static_cast<std::size_t>(p)] - low;
    if (high[static_cast<std::size_t>(p)] > low) {
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = low;
      ++partitions_left;
    }
  }
  std::uint64_t records = 0;
  // One 64-bit hash per record, sorted and deduplicated at the end: 8 bytes a record (a hash
  // set would take five times that for the ten million records of a bare-producer round).
  std::vector<std::uint64_t> hashes;
  hashes.reserve(static_cast<std::size_t>(watermark_records));
  if (partitions_left > 0) rd_kafka_assign(rk.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  const std::hash<std::string_view> hash;
  // Messages in batches from the consumer queue: a poll per message made reading ten million
  // records take half a minute.
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk.get());
  std::vector<rd_kafka_message_t*> batch(10000);
  int failed = 0;
  while (partitions_left > 0 && failed == 0) {
    if (Clock::now() > deadline) {
      std::cerr << "topic_tool: reading " << topic << " did not reach its end within " << timeout_s << " s\n";
      failed = 1;
      break;
    }
    const ssize_t n = rd_kafka_consume_batch_queue(queue, 500, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* message = batch[static_cast<std::size_t>(i)];
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // Only the end we measured counts: a partition is done once its offset passed `high`.
        auto& end = high[static_cast<std::size_t>(message->partition)];
        if (end >= 0 && message->offset >= end) {
          end = -1;  // done
          --partitions_left;
        }
      } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (failed++ == 0) std::cerr << "topic_tool: consume: " << rd_kafka_message_errstr(message) << "\n";
      } else {
        ++records;
        hashes.push_back(hash(std::string_view(static_cast<const char*>(message->payload), message->len)));
      }
      rd_kafka_message_destroy(message);
    }
  }
  rd_kafka_queue_destroy(queue);
  if (failed != 0) return 1;
  rd_kafka_consumer_close(rk.get());
  std::sort(hashes.begin(), hashes.end());
  const auto distinct = static_cast<std::size_t>(std::unique(hashes.begin(), hashes.end()) - hashes.begin());
  std::cout << "{\"topic\":\"" << topic << "\",\"records\":" << records << ",\"distinct_values\":" << distinct
            << ",\"watermark_records\":" << watermark_records << "}\n";
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"Kafka chores of the peer benchmark: create topics, count what a topic holds"};
  app.require_subcommand(1);
  std::string bootstrap;
  double timeout_s = 60;
  app.add_option("--bootstrap", bootstrap, "host:port")->required();
  app.add_option("--timeout-s", timeout_s, "longest wait");
  int partitions = 3;
  std::vector<std::string> topics;
  CLI::App* create_cmd = app.add_subcommand("create", "create topics and wait for their leaders");
  create_cmd->add_option("--partitions", partitions, "partitions per topic");
  create_cmd->add_option("topics", topics, "topic names")->required();
  std::string topic;
  CLI::App* count_cmd = app.add_subcommand("count", "count the records in a topic");
  count_cmd->add_option("topic", topic, "topic name")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (create_cmd->parsed()) return create(bootstrap, topics, partitions, timeout_s);
    return count(bootstrap, topic, timeout_s);
  } catch (const std::exception& e) {
    std::cerr << "topic_tool: " << e.what() << "\n";
    return 2;
  }
}

int main(int argc, char** argv) { return intake::bench::run_tool(run, argc, argv); }
