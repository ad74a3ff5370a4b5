// Fault tests against the real broker: records flow from several keep-alive clients while the
// gateway is stopped or the broker is killed; every id that got a 2xx must be consumed back,
// and idempotence must leave no duplicates. Each test prints its counts. They stop and kill
// processes, so ctest runs them alone (RUN_SERIAL).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crypto/digest.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

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
            if (reply.status >= 200 && reply.status < 300) accepted_.insert(id);
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
  mutable std::mutex mutex_;
  std::set<std::string> accepted_;
  std::map<int, int> statuses_;
  std::vector<std::thread> threads_;
};

struct Counts {
  std::size_t consumed = 0, lost = 0, duplicated = 0;
};

Counts check_delivery(const std::string& bootstrap, const std::string& topic, const std::set<std::string>& accepted) {
  std::map<std::string, int> seen;
  std::size_t processed = 0, found = 0;
  testing::consume_topic(
      bootstrap, topic,
      [&](const auto& so_far) {
        // Called after every message: look only at the new ones.
        for (; processed < so_far.size(); ++processed) {
          const std::string& value = so_far[processed].value;
          if (++seen[value] == 1 && accepted.count(value)) ++found;
        }
        return found == accepted.size();
      },
      90s);
  Counts counts;
  for (const auto& [id, times] : seen) {
    counts.consumed += static_cast<std::size_t>(times);
    counts.duplicated += times > 1 ? 1 : 0;
  }
  for (const auto& id : accepted) counts.lost += seen.count(id) ? 0 : 1;
  return counts;
}

std::string statuses_text(const std::map<int, int>& statuses) {
  std::string text;
  for (const auto& [status, count] : statuses) text += " " + std::to_string(status) + "x" + std::to_string(count);
  return text;
}

std::string gateway_yaml(std::uint16_t port, const std::string& bootstrap) {
  testing::GatewayYaml yaml;
  yaml.port = port;
  yaml.bootstrap = bootstrap;
  yaml.keys.push_back({"fault", kSecret, {"fault.*"}});
  return yaml.render();
}

TEST(Faults, GatewaySigtermUnderLoadLosesNoAcceptedRecord) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  testing::GatewayProcess gateway(gateway_yaml(port, bootstrap), port);
  const std::string topic = testing::unique_name("fault.sigterm");
  Load load(port, topic, 4);
  std::this_thread::sleep_for(1500ms);
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
    std::this_thread::sleep_for(1500ms);
    ASSERT_EQ(std::system((instance + " bash " + script + " kill >/dev/null 2>&1").c_str()), 0);
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(std::system((instance + " KAFKA_KEEP_DATA=1 bash " + script + " start >/dev/null 2>&1").c_str()), 0);
    std::this_thread::sleep_for(3s);
    load.stop();
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

}  // namespace
}  // namespace intake
