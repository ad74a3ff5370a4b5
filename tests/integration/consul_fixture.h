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
    yaml.config_fields = config_fields;
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }

  int post(const std::string& secret, const std::string& to_topic, const std::string& body = "record") {
    return testing::http_request("127.0.0.1", gateway->port(), "POST", "/v1/topics/" + to_topic, body,
                                 {{"Authorization", "Bearer " + secret}})
        .status;
  }

  std::string metrics() { return testing::http_request("127.0.0.1", gateway->port(), "GET", "/metrics", "", {}).body; }

  std::string admin_config() {
    return testing::http_request("127.0.0.1", gateway->port(), "GET", "/admin/config", "",
                                 {{"Authorization", std::string("Bearer ") + testing::kAdminToken}})
        .body;
  }

  // A number from /admin/config's "sources" entry of the Consul KV watcher.
  std::uint64_t kv_watch_counter(const std::string& field) { return watch_counter("consul_kv", field); }

  // A number ("requests", "errors", "snapshots") from /admin/config's "sources" entry named
  // `source` (consul_kv, consul_health).
  std::uint64_t watch_counter(const std::string& source, const std::string& field) {
    simdjson::dom::parser parser;
    const std::string body = admin_config();
    return watch_entry(parser, body, source)[field].get_uint64();
  }
  // The registry revision that watcher last reported (for Consul, an X-Consul-Index).
  std::string watch_revision(const std::string& source) {
    simdjson::dom::parser parser;
    const std::string body = admin_config();
    return std::string(std::string_view(watch_entry(parser, body, source)["revision"].get_string()));
  }

  static simdjson::dom::element watch_entry(simdjson::dom::parser& parser, const std::string& body,
                                            const std::string& source) {
    for (auto entry : parser.parse(body)["sources"].get_array()) {
      if (std::string_view(entry["name"].get_string()) == source) return entry;
    }
    throw std::runtime_error("no " + source + " source in /admin/config: " + body);
  }

  std::unique_ptr<testing::ConsulClient> consul;
  std::unique_ptr<testing::GatewayProcess> gateway;
  std::string prefix;
  std::string topic;
  std::vector<std::pair<std::string, std::string>> config_fields;  // more of the YAML's config:
};

}  // namespace intake
