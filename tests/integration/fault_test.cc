// Fault tests against the real broker: records flow from several keep-alive clients while the
// gateway is stopped or killed, or the broker is killed or moved; every id that got a 2xx must
// be consumed back. Where one producer lives through the fault, idempotence must also leave no
// duplicates; where the gateway crashes or a producer is replaced, duplicates are printed, not
// asserted (docs/delivery.md says why). Each test prints its counts. They stop and kill
// processes, so ctest runs them alone (RUN_SERIAL).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consul_fixture.h"
#include "crypto/digest.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "metrics_text.h"
#include "peers.h"
#include "temp_dir.h"

namespace intake {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "fault-secret";

// Clients that POST unique ids as fast as the gateway answers, reconnecting when a connection
// is closed, until told to stop or the gateway refuses connections.
class Load {
 public:
  Load(std::uint16_t port, std::string topic, int clients) : port_(port), topic_(std::move(topic)) {
    for (int c = 0; c < clients; ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~Load() { stop(); }
  void stop() {
    running_ = false;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  std::set<std::string> accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  // Phases split a test's timeline (before a fault, during it, after it): each 2xx counts in
  // the phase current when it was answered.
  void set_phase(int phase) { phase_ = phase; }
  std::size_t accepted_in(int phase) const {
    std::lock_guard lock(mutex_);
    const auto it = accepted_by_phase_.find(phase);
    return it == accepted_by_phase_.end() ? 0 : it->second;
  }
  int answered(int status) const {
    std::lock_guard lock(mutex_);
    const auto it = statuses_.find(status);
    return it == statuses_.end() ? 0 : it->second;
  }
  std::map<int, int> statuses() const {
    std::lock_guard lock(mutex_);
    return statuses_;
  }
  int sent() const { return sent_.load(); }

 private:
  void run(int client) {
    int next = 0;
    while (running_) {
      std::unique_ptr<testing::HttpConnection> connection;
      try {
        connection = std::make_unique<testing::HttpConnection>("127.0.0.1", port_);
      } catch (const std::exception&) {
        return;  // the gateway is gone
      }
      try {
        while (running_) {
          const std::string id = "c" + std::to_string(client) + "-" + std::to_string(next++);
          ++sent_;
          const auto reply = connection->request("POST", "/v1/topics/" + topic_, id,
                                                 {{"Authorization", std::string("Bearer ") + kSecret}});
          {
            std::lock_guard lock(mutex_);
            ++statuses_[reply.status];
            if (reply.status >= 200 && reply.status < 300) {
              accepted_.insert(id);
              ++accepted_by_phase_[phase_.load()];
            }
          }
          if (reply.header("connection") == "close") break;
          // A polite client pauses after a refusal instead of spinning.
          if (reply.status == 429 || reply.status >= 500) std::this_thread::sleep_for(10ms);
        }
      } catch (const std::exception&) {
        // Connection closed under us: the request's outcome is unknown and it did not get a
        // 2xx, so it is not counted; reconnect.
      }
    }
  }

  std::uint16_t port_;
  std::string topic_;
  std::atomic<bool> running_{true};
  std::atomic<int> sent_{0};
  std::atomic<int> phase_{0};
  mutable std::mutex mutex_;
  std::set<std::string> accepted_;
  std::map<int, std::size_t> accepted_by_phase_;
  std::map<int, int> statuses_;
  std::vector<std::thread> threads_;
};

using Counts = testing::DeliveryCount;

// Every partition read to its end, so duplicates show too. Call it once the gateway that
// produced has stopped (flushed), or its spool is empty.
Counts check_delivery(const std::string& bootstrap, const std::string& topic, const std::set<std::string>& accepted) {
  return testing::count_delivery(bootstrap, topic, accepted, 90s);
}

std::string statuses_text(const std::map<int, int>& statuses) {
  std::string text;
  for (const auto& [status, count] : statuses) text += " " + std::to_string(status) + "x" + std::to_string(count);
  return text;
}

testing::GatewayYaml fault_yaml(std::uint16_t port, const std::string& bootstrap) {
  testing::GatewayYaml yaml;
  yaml.port = port;
  yaml.bootstrap = bootstrap;
  yaml.keys.push_back({"fault", kSecret, {"fault.*"}});
  return yaml;
}

std::string gateway_yaml(std::uint16_t port, const std::string& bootstrap) {
  return fault_yaml(port, bootstrap).render();
}

// Runs scripts/peers/kafka.sh for a broker instance of the test's own; true on exit code 0.
bool kafka_script(const std::string& instance_env, const std::string& command) {
  const std::string script = std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/kafka.sh";
  return std::system((instance_env + " bash " + script + " " + command + " >/dev/null 2>&1").c_str()) == 0;
}

std::size_t spool_segments(const std::string& dir) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) count += entry.path().extension() == ".log";
  return count;
}

void print_counts(const char* what, int sent, std::size_t accepted, const Counts& counts,
                  const std::map<int, int>& statuses) {
  std::printf("%s: sent=%d 2xx=%zu consumed=%zu lost=%zu duplicated=%zu without-2xx=%zu statuses:%s\n", what, sent,
              accepted, counts.consumed, counts.lost, counts.duplicated, counts.unexpected,
              statuses_text(statuses).c_str());
}

TEST(Faults, GatewaySigtermUnderLoadLosesNoAcceptedRecord) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_yaml(port, bootstrap), port);
  const std::string topic = testing::unique_name("fault.sigterm");
  Load load(port, topic, 4);
  ASSERT_TRUE(testing::eventually([&] { return load.accepted().size() >= 500; }, 30s)) << gateway.log_tail();
  const int exit_code = gateway.stop(SIGTERM);
  load.stop();
  const auto accepted = load.accepted();
  const auto counts = check_delivery(bootstrap, topic, accepted);
  std::printf("gateway SIGTERM under load: sent=%d 2xx=%zu consumed=%zu lost=%zu duplicated=%zu statuses:%s\n",
              load.sent(), accepted.size(), counts.consumed, counts.lost, counts.duplicated,
              statuses_text(load.statuses()).c_str());
  EXPECT_EQ(exit_code, 0) << gateway.log_tail();
  EXPECT_GT(accepted.size(), 100u);
  EXPECT_EQ(counts.lost, 0u);
  EXPECT_EQ(counts.duplicated, 0u);
}

// A broker of the test's own (killed and restarted on its data), so the shared one stays up.
TEST(Faults, BrokerKilledAndRestartedUnderLoadLosesNoAcceptedRecord) {
  const std::string script = std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/kafka.sh";
  const std::string instance = "KAFKA_INSTANCE=kafka-fault KAFKA_PORT=19098 KAFKA_CONTROLLER_PORT=19099";
  ASSERT_EQ(std::system((instance + " bash " + script + " start >/dev/null 2>&1").c_str()), 0);
  const std::string bootstrap = "127.0.0.1:19098";
  const std::uint16_t port = testing::free_port();
  const std::string topic = testing::unique_name("fault.broker");
  std::set<std::string> accepted;
  std::map<int, int> statuses;
  int sent = 0, exit_code = -1;
  std::string log;
  {
    testing::GatewayProcess gateway(gateway_yaml(port, bootstrap), port);
    Load load(port, topic, 2);
    ASSERT_TRUE(testing::eventually([&] { return load.accepted_in(0) >= 300; }, 30s)) << gateway.log_tail();
    ASSERT_EQ(std::system((instance + " bash " + script + " kill >/dev/null 2>&1").c_str()), 0);
    load.set_phase(1);
    // The outage is noticed: without a spool, records are refused, not accepted and dropped.
    EXPECT_TRUE(testing::eventually([&] { return load.answered(503) > 0; }, 60s)) << gateway.log_tail();
    ASSERT_EQ(std::system((instance + " KAFKA_KEEP_DATA=1 bash " + script + " start >/dev/null 2>&1").c_str()), 0);
    load.set_phase(2);
    EXPECT_TRUE(testing::eventually([&] { return load.accepted_in(2) >= 300; }, 60s)) << gateway.log_tail();
    load.stop();
    std::printf(
        "broker kill -9 phases: 2xx before %zu, while down %zu (before the outage was noticed), after "
        "the restart %zu; 503s %d\n",
        load.accepted_in(0), load.accepted_in(1), load.accepted_in(2), load.answered(503));
    accepted = load.accepted();
    statuses = load.statuses();
    sent = load.sent();
    exit_code = gateway.stop(SIGTERM);
    log = gateway.log_tail();
  }
  const auto counts = check_delivery(bootstrap, topic, accepted);
  std::printf("broker kill -9 under load: sent=%d 2xx=%zu consumed=%zu lost=%zu duplicated=%zu statuses:%s\n", sent,
              accepted.size(), counts.consumed, counts.lost, counts.duplicated, statuses_text(statuses).c_str());
  std::system((instance + " bash " + script + " stop >/dev/null 2>&1").c_str());
  EXPECT_EQ(exit_code, 0) << log;
  EXPECT_GT(accepted.size(), 100u);
  EXPECT_EQ(counts.lost, 0u);
  EXPECT_EQ(counts.duplicated, 0u);
}

// A broker that hangs (SIGSTOP: connections stay open, nothing is answered) makes a sync
// record time out in librdkafka after kafka.delivery_timeout_ms: the client gets 504, not a
// hang and not a 200. A broker of the test's own, so the shared one stays up.
TEST(Faults, SyncRecordToAHungBrokerTimesOutWith504) {
  const std::string instance = "KAFKA_INSTANCE=kafka-hung KAFKA_PORT=19106 KAFKA_CONTROLLER_PORT=19107";
  ASSERT_TRUE(kafka_script(instance, "start"));
  auto yaml = fault_yaml(testing::free_port(), "127.0.0.1:19106");
  yaml.kafka_fields = {{"delivery_timeout_ms", "3000"}};
  yaml.shutdown_flush_ms = 1000;
  const std::string topic = testing::unique_name("fault.hung");
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", std::string("Bearer ") + kSecret}};
  testing::HttpConnection connection("127.0.0.1", yaml.port);
  const auto before = connection.request("POST", "/v1/topics/" + topic + "?sync=true", "before", auth);
  EXPECT_EQ(before.status, 200) << before.body;
  ASSERT_TRUE(kafka_script(instance, "pause"));
  const auto hung = connection.request("POST", "/v1/topics/" + topic + "?sync=true", "while-hung", auth, 40'000);
  ASSERT_TRUE(kafka_script(instance, "resume"));
  EXPECT_EQ(hung.status, 504) << hung.body << gateway.log_tail();
  EXPECT_NE(hung.body.find(R"("code":"delivery_timeout")"), std::string::npos) << hung.body;
  EXPECT_NE(hung.body.find("delivery_timeout_ms"), std::string::npos) << hung.body;
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  kafka_script(instance, "stop");
}

// Write-ahead spool with fsync: always: every 202 means the record is on disk, so a kill -9
// of the gateway under load loses none of them; the restarted gateway sends what was left.
TEST(Faults, GatewayKill9UnderLoadWithAWriteAheadSpoolLosesNoAcceptedRecord) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir spool("intake-spool-kill9");
  auto yaml = fault_yaml(testing::free_port(), bootstrap);
  yaml.spool_dir = spool.path();
  yaml.spool_mode = "write_ahead";
  yaml.spool_fsync = "always";
  const std::string topic = testing::unique_name("fault.kill9");
  std::set<std::string> accepted;
  std::map<int, int> statuses;
  int sent = 0;
  {
    testing::GatewayProcess gateway(yaml.render(), yaml.port);
    Load load(yaml.port, topic, 4);
    ASSERT_TRUE(testing::eventually([&] { return load.accepted().size() >= 300; }, 30s)) << gateway.log_tail();
    EXPECT_EQ(gateway.stop(SIGKILL), 128 + SIGKILL);
    load.stop();
    accepted = load.accepted();
    statuses = load.statuses();
    sent = load.sent();
  }
  const std::size_t left_on_disk = spool_segments(spool.path());
  yaml.port = testing::free_port();
  testing::GatewayProcess restarted(yaml.render(), yaml.port);
  // The replay path really ran: the restarted gateway found records it still had to send.
  const double recovered = testing::metric_value(testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics").body,
                                                 "intake_spool_recovered_records_total");
  // Everything delivered: the restarted gateway's spool empties (segments seal after 1 s idle).
  EXPECT_TRUE(testing::eventually([&] { return spool_segments(spool.path()) == 0; }, 30s)) << restarted.log_tail();
  EXPECT_EQ(restarted.stop(SIGTERM), 0) << restarted.log_tail();
  const auto counts = check_delivery(bootstrap, topic, accepted);
  print_counts("gateway kill -9 under load, write-ahead spool fsync=always", sent, accepted.size(), counts, statuses);
  std::printf("  segments left on disk by the killed gateway: %zu; records the restart recovered: %.0f\n", left_on_disk,
              recovered);
  EXPECT_GT(left_on_disk, 0u);
  EXPECT_GT(recovered, 0);
  EXPECT_GE(accepted.size(), 300u);
  EXPECT_EQ(counts.lost, 0u);
  // Not asserted: records in flight at the kill got no 2xx but may be in Kafka (counted as
  // unexpected above), and duplicates (docs/delivery.md).
}

// Kafka dies under load: with a fallback spool the gateway keeps answering 202 (records go to
// disk), a SIGTERM while Kafka is still down puts what the producer held into the spool and
// exits 0, and after Kafka and the gateway are back every accepted record is in Kafka.
TEST(Faults, KafkaDownUnderLoadWithAFallbackSpoolLosesNothingAcrossAGatewayRestart) {
  const std::string instance = "KAFKA_INSTANCE=kafka-spool KAFKA_PORT=19100 KAFKA_CONTROLLER_PORT=19101";
  ASSERT_TRUE(kafka_script(instance, "start"));
  const std::string bootstrap = "127.0.0.1:19100";
  testing::TempDir spool("intake-spool-fallback");
  auto yaml = fault_yaml(testing::free_port(), bootstrap);
  yaml.spool_dir = spool.path();
  yaml.shutdown_flush_ms = 2'000;
  const std::string topic = testing::unique_name("fault.spool");
  std::set<std::string> accepted;
  std::map<int, int> statuses;
  int sent = 0, exit_code = -1;
  std::size_t accepted_while_down = 0, accepted_before = 0;
  std::string log;
  {
    testing::GatewayProcess gateway(yaml.render(), yaml.port);
    Load load(yaml.port, topic, 2);
    ASSERT_TRUE(testing::eventually([&] { return load.accepted_in(0) >= 300; }, 30s)) << gateway.log_tail();
    ASSERT_TRUE(kafka_script(instance, "kill"));
    load.set_phase(1);
    // Wait until the gateway has noticed (not ready) and kept accepting into the spool.
    EXPECT_TRUE(testing::eventually(
        [&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/readyz").status == 503; }, 60s))
        << gateway.log_tail();
    load.set_phase(2);
    EXPECT_TRUE(testing::eventually([&] { return load.accepted_in(2) >= 300; }, 60s)) << gateway.log_tail();
    accepted_while_down = load.accepted_in(2);
    accepted_before = load.accepted_in(0);
    exit_code = gateway.stop(SIGTERM);
    load.stop();
    accepted = load.accepted();
    statuses = load.statuses();
    sent = load.sent();
    log = gateway.log_tail();
  }
  EXPECT_EQ(exit_code, 0) << log;
  EXPECT_GT(accepted_while_down, 100u) << "with a spool, records are accepted while Kafka is down\n" << log;
  EXPECT_GT(spool_segments(spool.path()), 0u);
  ASSERT_TRUE(kafka_script("KAFKA_KEEP_DATA=1 " + instance, "start"));
  yaml.port = testing::free_port();
  testing::GatewayProcess restarted(yaml.render(), yaml.port);
  const double recovered = testing::metric_value(testing::http_request("127.0.0.1", yaml.port, "GET", "/metrics").body,
                                                 "intake_spool_recovered_records_total");
  EXPECT_TRUE(testing::eventually([&] { return spool_segments(spool.path()) == 0; }, 30s)) << restarted.log_tail();
  EXPECT_EQ(restarted.stop(SIGTERM), 0) << restarted.log_tail();
  const auto counts = check_delivery(bootstrap, topic, accepted);
  print_counts("kafka kill -9 under load, fallback spool, gateway SIGTERM while Kafka is down, then restart", sent,
               accepted.size(), counts, statuses);
  std::printf("  accepted before the kill: %zu; while Kafka was down and noticed: %zu; recovered at restart: %.0f\n",
              accepted_before, accepted_while_down, recovered);
  EXPECT_GE(accepted_before, 300u);
  // Spooled while down, replayed by the restarted gateway: at least those were on disk.
  EXPECT_GE(recovered, static_cast<double>(accepted_while_down));
  EXPECT_EQ(counts.lost, 0u);
  EXPECT_EQ(counts.unexpected, 0u);
  // Not asserted: a batch in flight when the broker died may have reached its log; purged at
  // the SIGTERM and sent again by the next producer id, it is a duplicate idempotence cannot
  // see (docs/delivery.md). Printed above.
  kafka_script(instance, "stop");
}

// The broker restarts on another port and Consul announces the new address while records
// flow: the gateway follows without a restart and every accepted record reaches Kafka.
TEST_F(ConsulConfigTest, BrokerMovedToANewPortAndAnnouncedThroughConsulUnderLoadLosesNothing) {
  const std::string old_instance = "KAFKA_INSTANCE=kafka-move KAFKA_PORT=19102 KAFKA_CONTROLLER_PORT=19103";
  const std::string new_instance = "KAFKA_INSTANCE=kafka-move KAFKA_PORT=19104 KAFKA_CONTROLLER_PORT=19103";
  ASSERT_TRUE(kafka_script(old_instance, "start"));
  const std::string service = testing::unique_name("fault-kafka-move");
  consul->register_service(service + "-a", service, 19102);
  auto yaml = fault_yaml(testing::free_port(), "127.0.0.1:19102");
  yaml.consul_address = consul->address();
  yaml.consul_prefix = prefix;
  yaml.broker_service = service;
  yaml.drain_grace_ms = 3'000;
  consul->put(prefix + "keys/fault", testing::key_json(kSecret, {"fault.*"}));
  const std::string moved_topic = testing::unique_name("fault.move");
  gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  Load load(yaml.port, moved_topic, 2);
  ASSERT_TRUE(testing::eventually([&] { return load.accepted_in(0) >= 300; }, 30s)) << gateway->log_tail();
  ASSERT_TRUE(kafka_script(old_instance, "kill"));
  load.set_phase(1);
  ASSERT_TRUE(kafka_script("KAFKA_KEEP_DATA=1 " + new_instance, "start"));
  consul->register_service(service + "-b", service, 19104);
  consul->deregister_service(service + "-a");
  ASSERT_TRUE(testing::eventually(
      [&] { return admin_config().find(R"("producer":["127.0.0.1:19104"])") != std::string::npos; }, 30s))
      << gateway->log_tail();
  load.set_phase(2);
  EXPECT_TRUE(testing::eventually([&] { return load.accepted_in(2) >= 300; }, 60s)) << "records are accepted after "
                                                                                       "the move\n"
                                                                                    << gateway->log_tail();
  load.stop();
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto accepted = load.accepted();
  const auto counts = check_delivery("127.0.0.1:19104", moved_topic, accepted);
  print_counts("broker moved to a new port, announced through Consul, under load", load.sent(), accepted.size(), counts,
               load.statuses());
  std::printf("  2xx before the kill %zu, during the move %zu, after it %zu\n", load.accepted_in(0),
              load.accepted_in(1), load.accepted_in(2));
  EXPECT_EQ(counts.lost, 0u);
  EXPECT_EQ(counts.unexpected, 0u);
  consul->deregister_service(service + "-b");
  kafka_script(new_instance, "stop");
}

}  // namespace
}  // namespace intake
