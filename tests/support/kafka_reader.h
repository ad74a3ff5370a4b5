// Reads records back from the real Kafka broker with a librdkafka consumer, to prove delivery.
#pragma once

#include <chrono>
#include <functional>
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

}  // namespace intake::testing
