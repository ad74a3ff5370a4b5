// The Kafka producer's options: the bootstrap brokers, Intake's producer tunables and raw
// librdkafka properties. Plain values with defaults; filled from the YAML's `kafka:` section by
// config/static_config.cc, the only code that knows YAML.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace intake::kafka {

struct ProducerOptions {
  std::string bootstrap_servers;
  // Producer tunables (librdkafka's names in brackets).
  std::string compression = "lz4";        // none, gzip, snappy, lz4, zstd (compression.type)
  std::uint32_t linger_ms = 5;            // (linger.ms)
  std::uint32_t batch_bytes = 1'000'000;  // (batch.size)
  // What the gateway holds for Kafka at most; past either bound: 429 backpressure (or the spool).
  std::uint32_t max_queued_records = 1'000'000;           // (queue.buffering.max.messages)
  std::uint64_t max_queued_bytes = 256ull * 1024 * 1024;  // (queue.buffering.max.kbytes)
  std::uint32_t delivery_timeout_ms = 300'000;            // retries end after this (message.timeout.ms)
  // Passed to librdkafka as-is, after Intake's defaults and the tunables above (so they can be
  // overridden).
  std::vector<std::pair<std::string, std::string>> properties;
  std::uint32_t shutdown_flush_ms = 10'000;
  // After a broker-set change, how long the old producer's in-flight records may take before
  // they are handed to the new producer.
  std::uint32_t drain_grace_ms = 10'000;
  // Request headers copied into every record's Kafka headers (at most 16).
  std::vector<std::string> copy_headers;
};

}  // namespace intake::kafka
