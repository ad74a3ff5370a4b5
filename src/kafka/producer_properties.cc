#include "kafka/producer_properties.h"

#include <algorithm>
#include <cstdint>

namespace intake::kafka {

PropertyList producer_properties(const ProducerOptions& options, std::string_view client_id) {
  PropertyList list = {
      {"enable.idempotence", "true"},  // implies acks=all and in-order retries
      {"acks", "all"},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"compression.type", options.compression},
      {"batch.size", std::to_string(options.batch_bytes)},
      // The bounds on what the gateway holds for Kafka: past them, 429 backpressure (or the spool).
      {"queue.buffering.max.messages", std::to_string(options.max_queued_records)},
      {"queue.buffering.max.kbytes", std::to_string(std::max<std::uint64_t>(1, options.max_queued_bytes / 1024))},
      {"message.timeout.ms", std::to_string(options.delivery_timeout_ms)},
      {"client.id", std::string(client_id)},
  };
  list.insert(list.end(), options.properties.begin(), options.properties.end());
  return list;
}

}  // namespace intake::kafka
