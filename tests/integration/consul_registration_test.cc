// Self-registration in Consul against a real agent this test starts itself (not the shared
// one, since it restarts it) and a Kafka broker of its own (which it kills): the service
// appears with a passing check of /readyz, the check goes critical while Kafka is down and
// passes again once it is back, a restarted (and so empty) dev agent gets the service again
// from the gateway, and SIGTERM takes it out of the agent before the gateway exits 0.
//
// Why a broker of its own rather than a TCP proxy in front of the shared one: the broker
// advertises its own address, so after the first metadata answer librdkafka connects to it
// directly and a proxy cut leaves the gateway's producer connected and ready.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "consul_agent.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "metrics_text.h"

namespace intake {
namespace {

using namespace std::chrono_literals;
using testing::eventually;

// A Kafka broker of this test's own, run by scripts/peers/kafka.sh on free ports.
class OwnKafka {
 public:
  OwnKafka()
      : env_("KAFKA_INSTANCE=kafka-consul-registration KAFKA_PORT=" + std::to_string(port_) +
             " KAFKA_CONTROLLER_PORT=" + std::to_string(testing::free_port())) {
    if (!script("start")) throw std::runtime_error("scripts/peers/kafka.sh could not start a broker (" + env_ + ")");
  }
  ~OwnKafka() { script("stop"); }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  bool kill() { return script("kill"); }
  bool restart() { return script("start", "KAFKA_KEEP_DATA=1 "); }

 private:
  bool script(const std::string& command, const std::string& more_env = "") const {
    const std::string path = std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/kafka.sh";
    return std::system((more_env + env_ + " bash " + path + " " + command + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::uint16_t port_ = testing::free_port();
  std::string env_;
};

// The status of the service's check in the agent ("passing", "critical", ...), "" when the
// agent has no such service (or does not answer).
std::string check_status(const testing::ConsulAgent& agent, const std::string& service_name,
                         const std::string& service_id) {
  testing::HttpReply reply;
  try {
    reply = testing::http_request("127.0.0.1", agent.http_port(), "GET", "/v1/health/checks/" + service_name);
  } catch (const std::runtime_error&) {
    return "";
  }
  if (reply.status != 200) return "";
  simdjson::dom::parser parser;
  simdjson::dom::array checks;
  if (parser.parse(reply.body).get(checks) != simdjson::SUCCESS) return "";
  for (simdjson::dom::element check : checks) {
    std::string_view id, status;
    if (check["ServiceID"].get(id) == simdjson::SUCCESS && id == service_id &&
        check["Status"].get(status) == simdjson::SUCCESS) {
      return std::string(status);
    }
  }
  return "";
}

int agent_service_status(const testing::ConsulAgent& agent, const std::string& service_id) {
  try {
    return testing::http_request("127.0.0.1", agent.http_port(), "GET", "/v1/agent/service/" + service_id).status;
  } catch (const std::runtime_error&) {
    return 0;
  }
}

double metric(std::uint16_t port, const std::string& name) {
  try {
    return testing::metric_value(testing::http_request("127.0.0.1", port, "GET", "/metrics").body, name);
  } catch (const std::runtime_error&) {
    return -1;
  }
}

TEST(ConsulRegistration, ServiceFollowsReadinessAgentRestartsAndShutdown) {
  testing::ConsulAgent agent;
  OwnKafka kafka;
  const std::string service_name = testing::unique_name("it-reg");
  const std::string service_id = service_name + "-1";
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = kafka.bootstrap();
  yaml.shutdown_flush_ms = 5'000;
  const std::string config = yaml.render() + "consul_registration:\n  enabled: true\n  agent: \"" + agent.address() +
                             "\"\n  service_name: " + service_name + "\n  service_id: " + service_id +
                             "\n  tags: [http, it]\n  meta: {suite: consul-registration}\n"
                             "  check_interval_ms: 500\n  check_timeout_ms: 400\n";
  testing::GatewayProcess gateway(config, yaml.port);

  // Up: registered with what the YAML says, and the agent's check of /readyz passes.
  ASSERT_TRUE(eventually([&] { return check_status(agent, service_name, service_id) == "passing"; }, 30s))
      << check_status(agent, service_name, service_id) << "\n"
      << gateway.log_tail();
  const auto service = testing::http_request("127.0.0.1", agent.http_port(), "GET", "/v1/agent/service/" + service_id);
  ASSERT_EQ(service.status, 200) << service.body;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(service.body);
  EXPECT_EQ(std::string_view(doc["Service"]), service_name);
  EXPECT_EQ(std::string_view(doc["Address"]), "127.0.0.1");
  EXPECT_EQ(std::uint64_t(doc["Port"]), yaml.port);
  EXPECT_EQ(std::string_view(doc["Tags"].at(1)), "it");
  EXPECT_EQ(std::string_view(doc["Meta"]["suite"]), "consul-registration");
  EXPECT_TRUE(eventually([&] { return metric(yaml.port, "intake_consul_registered") == 1; })) << gateway.log_tail();

  // Kafka unreachable: /readyz fails, and so does the agent's check; the service stays.
  ASSERT_TRUE(kafka.kill());
  EXPECT_TRUE(
      eventually([&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/readyz").status == 503; }, 60s))
      << gateway.log_tail();
  EXPECT_TRUE(eventually([&] { return check_status(agent, service_name, service_id) == "critical"; }, 30s))
      << check_status(agent, service_name, service_id) << "\n"
      << gateway.log_tail();

  // Kafka back: passing again.
  ASSERT_TRUE(kafka.restart());
  EXPECT_TRUE(eventually([&] { return check_status(agent, service_name, service_id) == "passing"; }, 60s))
      << check_status(agent, service_name, service_id) << "\n"
      << gateway.log_tail();

  // The agent restarts and, being a dev agent, forgets the service: the gateway registers it
  // again, and its check passes.
  agent.stop();
  agent.start();
  EXPECT_TRUE(eventually([&] { return check_status(agent, service_name, service_id) == "passing"; }, 60s))
      << check_status(agent, service_name, service_id) << "\n"
      << gateway.log_tail() << "\n"
      << agent.log_tail();
  EXPECT_GE(metric(yaml.port, "intake_consul_registrations_total"), 2) << gateway.log_tail();
  EXPECT_TRUE(eventually([&] { return metric(yaml.port, "intake_consul_registered") == 1; })) << gateway.log_tail();

  // SIGTERM: out of the agent, and a clean exit.
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  EXPECT_EQ(agent_service_status(agent, service_id), 404);
  EXPECT_EQ(check_status(agent, service_name, service_id), "");
  // Out of Consul before draining: the deregistration is logged before the shutdown's summary.
  const std::string log = gateway.log_tail(200'000);
  const auto deregistered = log.find("consul: deregistered service " + service_id);
  ASSERT_NE(deregistered, std::string::npos) << gateway.log_tail();
  EXPECT_LT(deregistered, log.find("intake: stopped in")) << gateway.log_tail();
}

// Registration is off unless asked for: a gateway pointed at the agent's address as its
// config source's does not register anything.
TEST(ConsulRegistration, IsOffByDefault) {
  testing::ConsulAgent agent;
  testing::GatewayYaml yaml;
  yaml.port = testing::free_port();
  yaml.bootstrap = std::getenv("INTAKE_KAFKA_BOOTSTRAP") ? std::getenv("INTAKE_KAFKA_BOOTSTRAP") : "";
  ASSERT_FALSE(yaml.bootstrap.empty()) << "INTAKE_KAFKA_BOOTSTRAP is not set";
  yaml.consul_address = agent.address();
  yaml.consul_prefix = testing::unique_name("it-reg-off") + "/";
  yaml.wait_for_registry = false;
  testing::GatewayProcess gateway(yaml.render(), yaml.port);
  ASSERT_TRUE(
      eventually([&] { return testing::http_request("127.0.0.1", yaml.port, "GET", "/readyz").status == 200; }, 30s))
      << gateway.log_tail();
  std::this_thread::sleep_for(1s);
  const auto services = testing::http_request("127.0.0.1", agent.http_port(), "GET", "/v1/agent/services");
  ASSERT_EQ(services.status, 200);
  EXPECT_EQ(services.body.substr(0, services.body.find_last_not_of("\n") + 1), "{}") << services.body;
  EXPECT_EQ(metric(yaml.port, "intake_consul_registrations_total"), -1);
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
}

}  // namespace
}  // namespace intake
