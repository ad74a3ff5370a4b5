// The fixture shared by the Consul config-plane suites: a unique KV prefix per test and the
// real gateway watching it.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

#include "consul_client.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"

namespace intake {

class ConsulConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    consul = std::make_unique<testing::ConsulClient>(testing::required_env("INTAKE_CONSUL_ADDR"));
    prefix = testing::unique_name("it-config") + "/";
    topic = testing::unique_name("it.config");
  }
  void TearDown() override {
    try {
      consul->remove_prefix(prefix);
    } catch (const std::exception&) {
    }
  }

  // `broker_service` non-empty: brokers also from that Consul service's passing instances.
  void start_gateway(std::uint32_t wait_ms = 300'000, const std::string& broker_service = "") {
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    yaml.consul_address = consul->address();
    yaml.consul_prefix = prefix;
    yaml.consul_wait_ms = wait_ms;
    yaml.broker_service = broker_service;
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }

  int post(const std::string& secret, const std::string& to_topic, const std::string& body = "record") {
    return testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + to_topic, body,
                                 {{"Authorization", "Bearer " + secret}})
        .status;
  }

  std::string admin_config() {
    return testing::http_request("127.0.0.1", gateway->port(), "GET", "/admin/config", "",
                                 {{"Authorization", std::string("Bearer ") + testing::kAdminToken}})
        .body;
  }

  // A number from /admin/config's "sources" entry of the Consul KV watcher.
  std::uint64_t kv_watch_counter(const std::string& field) {
    simdjson::dom::parser parser;
    const std::string body = admin_config();
    for (auto source : parser.parse(body)["sources"].get_array()) {
      if (std::string_view(source["name"].get_string()) == "consul_kv") return source[field].get_uint64();
    }
    throw std::runtime_error("no consul_kv source in /admin/config: " + body);
  }

  std::unique_ptr<testing::ConsulClient> consul;
  std::unique_ptr<testing::GatewayProcess> gateway;
  std::string prefix;
  std::string topic;
};

}  // namespace intake
