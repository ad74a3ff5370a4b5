// The YAML's consul_registration section: defaults, the fallbacks to config.consul and
// server.listen, and the settings it refuses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/static_config.h"

namespace intake::config {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBase = "server: {listen: \"10.0.0.5:9090\"}\nkafka: {bootstrap_servers: \"k:9092\"}\n";

std::string message_of(const std::string& yaml) {
  try {
    parse_static_config(yaml, "test.yaml");
  } catch (const StaticConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(StaticConfigConsulRegistration, IsOffByDefaultWithDocumentedDefaults) {
  const auto config = parse_static_config(kBase, "test.yaml");
  const auto& registration = config.consul_registration;
  EXPECT_FALSE(registration.enabled);
  EXPECT_EQ(registration.service_name, "intake");
  EXPECT_EQ(registration.service_id, "");
  EXPECT_TRUE(registration.tags.empty());
  EXPECT_TRUE(registration.meta.empty());
  EXPECT_EQ(registration.port, 0);
  EXPECT_EQ(registration.check_interval, 10'000ms);
  EXPECT_EQ(registration.check_timeout, 2'000ms);
  EXPECT_EQ(registration.deregister_critical_after, 600s);
}

TEST(StaticConfigConsulRegistration, TakesEveryField) {
  const auto config = parse_static_config(std::string(kBase) + R"(
consul_registration:
  enabled: true
  agent: "http://127.0.0.1:8501"
  token: "reg-token"
  service_name: intake-eu
  service_id: intake-eu-1
  tags: [http, kafka]
  meta: {zone: eu-1, rack: r2}
  address: 10.0.0.6
  port: 8080
  check_interval_ms: 500
  check_timeout_ms: 300
  deregister_critical_after_s: 90
)",
                                          "test.yaml");
  const auto& registration = config.consul_registration;
  EXPECT_TRUE(registration.enabled);
  EXPECT_EQ(registration.agent, "http://127.0.0.1:8501");
  EXPECT_EQ(registration.token, "reg-token");
  EXPECT_EQ(registration.service_name, "intake-eu");
  EXPECT_EQ(registration.service_id, "intake-eu-1");
  ASSERT_EQ(registration.tags.size(), 2u);
  EXPECT_EQ(registration.tags[1], "kafka");
  ASSERT_EQ(registration.meta.size(), 2u);
  EXPECT_EQ(registration.meta[0].first, "zone");
  EXPECT_EQ(registration.meta[0].second, "eu-1");
  EXPECT_EQ(registration.address, "10.0.0.6");
  EXPECT_EQ(registration.port, 8080);
  EXPECT_EQ(registration.check_interval, 500ms);
  EXPECT_EQ(registration.check_timeout, 300ms);
  EXPECT_EQ(registration.deregister_critical_after, 90s);
}

TEST(StaticConfigConsulRegistration, AgentAndTokenFallBackToConfigConsulAndAddressToServerListen) {
  const auto config = parse_static_config(std::string(kBase) + R"(
config:
  source: consul
  consul: {address: "http://127.0.0.1:18500", token: "kv-token"}
consul_registration: {enabled: true}
)",
                                          "test.yaml");
  const auto& registration = config.consul_registration;
  EXPECT_EQ(registration.agent, "http://127.0.0.1:18500");
  EXPECT_EQ(registration.token, "kv-token");
  EXPECT_EQ(registration.address, "10.0.0.5");
}

TEST(StaticConfigConsulRegistration, OwnAgentAndTokenWinOverConfigConsul) {
  const auto config = parse_static_config(std::string(kBase) + R"(
config:
  source: consul
  consul: {address: "http://127.0.0.1:18500", token: "kv-token"}
consul_registration: {enabled: true, agent: "127.0.0.1:8500", token: "own"}
)",
                                          "test.yaml");
  EXPECT_EQ(config.consul_registration.agent, "127.0.0.1:8500");
  EXPECT_EQ(config.consul_registration.token, "own");
}

TEST(StaticConfigConsulRegistration, WildcardListenNeedsAnAddress) {
  const auto message = message_of(
      "server: {listen: \"0.0.0.0:9090\"}\nkafka: {bootstrap_servers: \"k:9092\"}\n"
      "consul_registration: {enabled: true}\n");
  EXPECT_NE(message.find("consul_registration.address"), std::string::npos) << message;
  EXPECT_NE(message.find("required when server.listen binds every interface"), std::string::npos) << message;
  // Disabled, the wildcard listener is fine.
  EXPECT_EQ(message_of("server: {listen: \"0.0.0.0:9090\"}\nkafka: {bootstrap_servers: \"k:9092\"}\n"
                       "consul_registration: {enabled: false}\n"),
            "(accepted)");
  // With an address given it is fine too.
  const auto config = parse_static_config(
      "server: {listen: \"0.0.0.0:9090\"}\nkafka: {bootstrap_servers: \"k:9092\"}\n"
      "consul_registration: {enabled: true, address: 10.0.0.7}\n",
      "test.yaml");
  EXPECT_EQ(config.consul_registration.address, "10.0.0.7");
}

TEST(StaticConfigConsulRegistration, WildcardAddressIsRefusedWithAClearMessage) {
  for (const char* wildcard : {"0.0.0.0", "\"::\"", "\"[::]\""}) {
    const auto message =
        message_of(std::string(kBase) + "consul_registration: {enabled: true, address: " + wildcard + "}\n");
    EXPECT_NE(message.find("test.yaml"), std::string::npos) << message;
    EXPECT_NE(message.find("consul_registration.address"), std::string::npos) << message;
    EXPECT_NE(message.find("is no address anyone can reach"), std::string::npos) << message;
  }
}

TEST(StaticConfigConsulRegistration, UnknownFieldIsRefused) {
  const auto message = message_of(std::string(kBase) + "consul_registration: {enabled: true, service: intake}\n");
  EXPECT_NE(message.find("consul_registration"), std::string::npos) << message;
  EXPECT_NE(message.find("service"), std::string::npos) << message;
  EXPECT_NE(message, "(accepted)");
}

TEST(StaticConfigConsulRegistration, BadValuesAreRefused) {
  EXPECT_NE(message_of(std::string(kBase) + "consul_registration: {service_name: \"a b\"}\n")
                .find("consul_registration.service_name"),
            std::string::npos);
  EXPECT_NE(message_of(std::string(kBase) + "consul_registration: {check_interval_ms: 10}\n")
                .find("consul_registration.check_interval_ms"),
            std::string::npos);
  EXPECT_NE(message_of(std::string(kBase) + "consul_registration: {tags: http}\n").find("consul_registration.tags"),
            std::string::npos);
  EXPECT_NE(message_of(std::string(kBase) + "consul_registration: {port: 0}\n").find("consul_registration.port"),
            std::string::npos);
}

TEST(StaticConfigConsulRegistration, PrintedConfigRedactsTheToken) {
  const auto path = (std::filesystem::temp_directory_path() / ("intake-reg-" + std::to_string(::getpid()) + ".yaml"));
  {
    std::ofstream out(path);
    out << kBase << "consul_registration: {enabled: true, token: \"reg-s3cret\"}\n";
  }
  const std::string printed = effective_yaml(path.string(), {});
  std::filesystem::remove(path);
  EXPECT_EQ(printed.find("reg-s3cret"), std::string::npos) << printed;
  EXPECT_NE(printed.find("<redacted>"), std::string::npos) << printed;
}

}  // namespace
}  // namespace intake::config
