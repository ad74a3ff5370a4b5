// The floor for producing: one bare librdkafka producer, with Intake's producer settings, sending
// the benchmark's records as fast as librdkafka takes them. No HTTP, no parsing, no policy: what
// is left is the cost of the producer itself, the ceiling Intake's NDJSON batches can approach.
//
// Settings: the defaults of kafka::ProducerOptions, applied as src/kafka/producer.cc applies
// them (idempotent, acks=all, compression, linger, batch size, queue bounds, delivery timeout).
//
// Run: bare_producer --bootstrap HOST:PORT --topic T --warmup-topic W --prefix P --suffix S
//   Records are P + "<thread 2 digits>-<counter 10 digits>" + S, like the wrk script's.
//   Warm-up: --warmup-s seconds into W (connections, producer id, first batches), not counted.
//   Measured: --duration-s seconds of producing into T, then a flush; the rate is the records
//   Kafka acknowledged divided by the time from the first produce to the last acknowledgement.
//   Prints one JSON object on stdout. Exit 0 iff every measured record was acknowledged.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "kafka/producer_properties.h"
#include "tool_main.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Counts {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  std::string first_error;
};

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  auto* counts = static_cast<Counts*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    counts->delivered.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (counts->failed.fetch_add(1, std::memory_order_relaxed) == 0) {
      counts->first_error = rd_kafka_err2str(message->err);
      std::replace(counts->first_error.begin(), counts->first_error.end(), '"', '\'');  // stays a JSON string
    }
  }
}

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    throw std::runtime_error(name + ": " + errstr);
  }
}

// The gateway's own property list (kafka/producer_properties.h), with its default options.
rd_kafka_t* make_producer(const std::string& bootstrap, Counts& counts) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] : intake::kafka::producer_properties({}, "bare-producer")) set(conf, name, value);
  set(conf, "bootstrap.servers", bootstrap);
  rd_kafka_conf_set_opaque(conf, &counts);
  rd_kafka_conf_set_dr_msg_cb(conf, &on_delivery);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
  }
  return rk;
}

// Produces records into `topic` for `seconds`; waits in rd_kafka_poll while the queue is full,
// as a caller that must not drop has to. Returns the number handed to librdkafka.
std::uint64_t produce_for(rd_kafka_t* rk, const std::string& topic, double seconds, const std::string& prefix,
                          const std::string& suffix, int thread_id, std::uint64_t& counter) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::uint64_t produced = 0;
  std::string value;
  char id[32];
  while (true) {
    if ((produced & 1023) == 0 && Clock::now() >= end) break;
    ++counter;
    const int id_len =
        std::snprintf(id, sizeof(id), "%02d-%010llu", thread_id, static_cast<unsigned long long>(counter));
    value.assign(prefix).append(id, static_cast<std::size_t>(id_len)).append(suffix);
    while (true) {
      const rd_kafka_resp_err_t err =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
      rd_kafka_poll(rk, 1);
    }
    ++produced;
    if ((produced & 255) == 0) rd_kafka_poll(rk, 0);
  }
  return produced;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"Bare librdkafka producer with Intake's producer settings (benchmark floor)"};
  std::string bootstrap, topic, warmup_topic, prefix, suffix;
  double warmup_s = 2, duration_s = 10, flush_timeout_s = 60;
  int thread_id = 99;
  app.add_option("--bootstrap", bootstrap, "host:port")->required();
  app.add_option("--topic", topic, "measured topic (create it first)")->required();
  app.add_option("--warmup-topic", warmup_topic, "warm-up topic")->required();
  app.add_option("--prefix", prefix, "record text before the id")->required();
  app.add_option("--suffix", suffix, "record text after the id")->required();
  app.add_option("--warmup-s", warmup_s, "seconds of warm-up");
  app.add_option("--duration-s", duration_s, "seconds of measured producing");
  app.add_option("--flush-timeout-s", flush_timeout_s, "longest wait for the last acknowledgements");
  app.add_option("--thread-id", thread_id, "the id's first field (wrk uses its thread numbers)");
  CLI11_PARSE(app, argc, argv);

  try {
    Counts counts;
    rd_kafka_t* rk = make_producer(bootstrap, counts);
    const long rss_idle_kb = rss_kb();
    std::uint64_t counter = 0;
    produce_for(rk, warmup_topic, warmup_s, prefix, suffix, thread_id, counter);
    rd_kafka_flush(rk, static_cast<int>(flush_timeout_s * 1000));
    const std::uint64_t warmup_delivered = counts.delivered.exchange(0);
    const std::uint64_t warmup_failed = counts.failed.exchange(0);

    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    const std::uint64_t produced = produce_for(rk, topic, duration_s, prefix, suffix, thread_id, counter);
    const auto t_produced = Clock::now();
    const long rss_load_kb = rss_kb();
    const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, static_cast<int>(flush_timeout_s * 1000));
    const auto t_acked = Clock::now();
    const double cpu_s = cpu_seconds() - cpu0;
    const std::uint64_t delivered = counts.delivered.load();
    const std::uint64_t failed = counts.failed.load();
    const double produce_s = std::chrono::duration<double>(t_produced - t0).count();
    const double total_s = std::chrono::duration<double>(t_acked - t0).count();
    rd_kafka_destroy(rk);

    std::cout << "{\"produced\":" << produced << ",\"delivered\":" << delivered << ",\"failed\":" << failed
              << ",\"flush_complete\":" << (flushed == RD_KAFKA_RESP_ERR_NO_ERROR ? "true" : "false")
              << ",\"produce_s\":" << produce_s << ",\"until_acked_s\":" << total_s
              << ",\"records_per_s\":" << (total_s > 0 ? static_cast<double>(delivered) / total_s : 0.0)
              << ",\"cpu_s\":" << cpu_s << ",\"rss_idle_kb\":" << rss_idle_kb << ",\"rss_load_kb\":" << rss_load_kb
              << ",\"warmup_delivered\":" << warmup_delivered << ",\"warmup_failed\":" << warmup_failed
              << ",\"record_bytes\":" << prefix.size() + 13 + suffix.size() << ",\"first_error\":\""
              << counts.first_error << "\"}\n";
    return delivered == produced && failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bare_producer: " << e.what() << "\n";
    return 2;
  }
}

int main(int argc, char** argv) { return intake::bench::run_tool(run, argc, argv); }
