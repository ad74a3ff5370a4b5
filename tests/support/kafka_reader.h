// Reads records back from the real Kafka broker with a librdkafka consumer, to prove delivery.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace intake::testing {

struct ConsumedRecord {
  std::string key;
  std::string value;
  int partition = -1;
  long long offset = -1;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Consumes `topic` from the beginning until `enough(records so far)` is true or `timeout`
// passes; returns everything read.
std::vector<ConsumedRecord> consume_topic(const std::string& bootstrap, const std::string& topic,
                                          const std::function<bool(const std::vector<ConsumedRecord>&)>& enough,
                                          std::chrono::milliseconds timeout);

// Reads every partition of `topic` from its start to its high watermark as it is when called
// (so call it once the producer has flushed): everything Kafka holds, duplicates included.
// Throws if the topic's metadata or watermarks cannot be had, or the end is not reached in
// `timeout`.
std::vector<ConsumedRecord> consume_to_end(const std::string& bootstrap, const std::string& topic,
                                           std::chrono::milliseconds timeout = std::chrono::seconds(60));

// What a topic holds against the values clients were told were accepted.
struct DeliveryCount {
  std::size_t consumed = 0;    // records read, duplicates included
  std::size_t lost = 0;        // accepted values not in Kafka
  std::size_t duplicated = 0;  // values in Kafka more than once
  std::size_t unexpected = 0;  // values in Kafka that were not accepted
};

// Reads `topic` to its end (consume_to_end), again every 500 ms until every accepted value is
// there or `timeout` passes, and counts the last read against `accepted`.
DeliveryCount count_delivery(const std::string& bootstrap, const std::string& topic,
                             const std::set<std::string>& accepted,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace intake::testing
