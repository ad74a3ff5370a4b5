// The registries started by the project's scripts are real and answer on loopback. The config
// plane that uses them is tested in its own suites; this proves the ground they stand on.
#include <gtest/gtest.h>

#include <string>

#include "http_client.h"
#include "peers.h"

namespace intake {
namespace {

TEST(Peers, ConsulAgentHasALeaderAndServesKv) {
  const auto [host, port] = testing::parse_host_port(testing::required_env("INTAKE_CONSUL_ADDR"));
  const auto leader = testing::http_request(host, port, "GET", "/v1/status/leader");
  EXPECT_EQ(leader.status, 200);
  EXPECT_NE(leader.body, "\"\"");
  EXPECT_EQ(testing::http_request(host, port, "PUT", "/v1/kv/intake-test/peers", "hello").status, 200);
  const auto read = testing::http_request(host, port, "GET", "/v1/kv/intake-test/peers?raw");
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, "hello");
  EXPECT_FALSE(read.header("x-consul-index").empty());
  EXPECT_EQ(testing::http_request(host, port, "DELETE", "/v1/kv/intake-test/peers").status, 200);
}

TEST(Peers, EtcdIsHealthyAndServesTheV3JsonGateway) {
  const auto [host, port] = testing::parse_host_port(testing::required_env("INTAKE_ETCD_ENDPOINT"));
  const auto health = testing::http_request(host, port, "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("true"), std::string::npos) << health.body;
  // key "aW50YWtlLXRlc3Q=" is base64("intake-test"), value "aGVsbG8=" is base64("hello").
  EXPECT_EQ(testing::http_request(host, port, "POST", "/v3/kv/put", R"({"key":"aW50YWtlLXRlc3Q=","value":"aGVsbG8="})")
                .status,
            200);
  const auto range = testing::http_request(host, port, "POST", "/v3/kv/range", R"({"key":"aW50YWtlLXRlc3Q="})");
  EXPECT_EQ(range.status, 200);
  EXPECT_NE(range.body.find("aGVsbG8="), std::string::npos) << range.body;
  testing::http_request(host, port, "POST", "/v3/kv/deleterange", R"({"key":"aW50YWtlLXRlc3Q="})");
}

TEST(Peers, ZooKeeperRunsStandalone) {
  const std::string hosts = testing::required_env("INTAKE_ZK_HOSTS");
  const auto [host, port] = testing::parse_host_port(hosts.substr(0, hosts.find(',')));
  testing::HttpConnection connection(host, port);  // plain TCP: the four-letter word protocol
  connection.send_raw("srvr");
  const std::string answer = connection.read_until_close();
  EXPECT_NE(answer.find("Mode: standalone"), std::string::npos) << answer;
}

}  // namespace
}  // namespace intake
