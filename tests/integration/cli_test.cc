// The command line against the real binary and the real peers: `intake version`, `--help`,
// `check-config --source` reading a live registry tree (Consul, etcd, ZooKeeper) once and
// reporting every bad key, and environment overrides of the YAML's settings for `run`.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli_process.h"
#include "consul_client.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"
#include "temp_dir.h"
#include "zk_client.h"

namespace intake {
namespace {

using testing::key_json;
using testing::run_intake;

// A YAML file in a temp dir: the gateway's own keys plus a `config:` section.
class CliTest : public ::testing::Test {
 protected:
  std::string write_config(const std::string& config_section, std::uint16_t port = 18080) {
    const std::string path = dir.path() + "/intake.yaml";
    std::ofstream(path) << "server: {listen: \"127.0.0.1:" << port << "\"}\n"
                        << "kafka: {bootstrap_servers: \"" << testing::required_env("INTAKE_KAFKA_BOOTSTRAP") << "\"}\n"
                        << config_section;
    return path;
  }

  // The two good and two bad entries every registry gets; `put(key, value)` writes one.
  template <typename Put>
  void put_mixed_tree(Put put) {
    put("keys/good-a", key_json("cli-good-a", {"it.cli.*"}));
    put("keys/good-b", key_json("cli-good-b", {"it.cli-b"}));
    put("keys/bad-json", R"({"secret_sha256": "abc", "topics": [)");
    put("keys/bad-glob", R"({"secret_sha256": ")" + std::string(64, 'c') + R"(", "topics": ["events/#"]})");
  }

  // What check-config --source must say about that tree, its entries under `prefix`.
  static void expect_mixed_tree_report(const testing::CliOutcome& outcome, const std::string& prefix) {
    EXPECT_EQ(outcome.exit_code, 1) << outcome.output;
    EXPECT_NE(outcome.output.find(prefix + "keys/bad-json: value is not valid JSON"), std::string::npos)
        << outcome.output;
    EXPECT_NE(outcome.output.find(prefix + "keys/bad-glob: topic glob 'events/#': pattern may contain only"),
              std::string::npos)
        << outcome.output;
    EXPECT_EQ(outcome.output.find("keys/good-"), std::string::npos) << outcome.output;
    EXPECT_NE(outcome.output.find("2 keys ok, 2 bad"), std::string::npos) << outcome.output;
  }

  testing::TempDir dir{"intake-cli"};
};

TEST_F(CliTest, VersionNamesTheBuildAndLibrdkafka) {
  for (const char* form : {"version", "--version"}) {
    const auto outcome = run_intake({form});
    EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
    EXPECT_EQ(outcome.output.rfind("intake 0.", 0), 0u) << outcome.output;
    for (const char* line : {"\ngit revision: ", "\nlibrdkafka: 2.", "\ncompiler: ", "\nbuild type: Debug"}) {
      EXPECT_NE(outcome.output.find(line), std::string::npos) << form << " lacks " << line << ":\n" << outcome.output;
    }
    // A checkout's revision: hex digits, not "unknown" (this test runs from one).
    const auto revision = outcome.output.find("git revision: ") + 14;
    EXPECT_NE(std::string("0123456789abcdef").find(outcome.output[revision]), std::string::npos) << outcome.output;
  }
}

TEST_F(CliTest, HelpListsEverySubcommandExamplesAndTheOverrideRule) {
  const auto outcome = run_intake({"--help"});
  EXPECT_EQ(outcome.exit_code, 0);
  for (const char* text : {"run", "check-config", "hash-key", "version", "intake run --config /etc/intake/intake.yaml",
                           "intake check-config --config intake.yaml --source", "intake hash-key 's3cret'",
                           "INTAKE_SERVER__LISTEN=127.0.0.1:9000"}) {
    EXPECT_NE(outcome.output.find(text), std::string::npos) << text << ":\n" << outcome.output;
  }
  const auto check_help = run_intake({"check-config", "--help"});
  EXPECT_EQ(check_help.exit_code, 0);
  EXPECT_NE(check_help.output.find("--timeout-ms"), std::string::npos) << check_help.output;
  EXPECT_NE(check_help.output.find("10000"), std::string::npos) << "default shown:\n" << check_help.output;
}

TEST_F(CliTest, NoSubcommandPrintsHelpAndExits2) {
  const auto outcome = run_intake({});
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.output.find("check-config"), std::string::npos) << outcome.output;
  EXPECT_EQ(run_intake({"no-such-command"}).exit_code, 2);
}

TEST_F(CliTest, CheckConfigWithoutSourceValidatesTheFileOnly) {
  const auto good = run_intake({"check-config", "--config", write_config("")});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("intake.yaml: ok (0 keys)"), std::string::npos) << good.output;
  const auto bad = run_intake({"check-config", "--config", write_config("spool: {mode: sometimes}\n")});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("spool.mode: expected fallback or write_ahead, got 'sometimes'"), std::string::npos)
      << bad.output;
}

TEST_F(CliTest, CheckConfigSourceReportsEveryBadConsulKeyOnce) {
  testing::ConsulClient consul(testing::required_env("INTAKE_CONSUL_ADDR"));
  const std::string prefix = testing::unique_name("it-cli") + "/";
  put_mixed_tree([&](const std::string& key, const std::string& value) { consul.put(prefix + key, value); });
  const auto path = write_config("config:\n  source: consul\n  consul: {address: \"" + consul.address() +
                                 "\", prefix: \"" + prefix + "\"}\n");
  const auto outcome = run_intake({"check-config", "--config", path, "--source"});
  expect_mixed_tree_report(outcome, prefix);
  EXPECT_NE(outcome.output.find("consul " + prefix + " (revision "), std::string::npos) << outcome.output;

  // Fixed, the same tree passes.
  consul.remove(prefix + "keys/bad-json");
  consul.remove(prefix + "keys/bad-glob");
  const auto fixed = run_intake({"check-config", "--config", path, "--source"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("2 keys ok, 0 bad"), std::string::npos) << fixed.output;
  consul.remove_prefix(prefix);
}

TEST_F(CliTest, CheckConfigSourceReportsEveryBadEtcdKey) {
  const auto [host, port] = testing::parse_host_port(testing::required_env("INTAKE_ETCD_ENDPOINT"));
  const std::string prefix = testing::unique_name("it-cli") + "/";
  auto etcd = [&, host = host, port = port](const std::string& target, const std::string& body) {
    const auto reply = testing::http_request(host, port, "POST", target, body, {{"Content-Type", "application/json"}});
    ASSERT_EQ(reply.status, 200) << target << ": " << reply.body;
  };
  put_mixed_tree([&](const std::string& key, const std::string& value) {
    etcd("/v3/kv/put",
         R"({"key":")" + testing::to_base64(prefix + key) + R"(","value":")" + testing::to_base64(value) + R"("})");
  });
  const auto path = write_config("config:\n  source: etcd\n  etcd: {address: \"" +
                                 testing::required_env("INTAKE_ETCD_ENDPOINT") + "\", prefix: \"" + prefix + "\"}\n");
  expect_mixed_tree_report(run_intake({"check-config", "--config", path, "--source"}), prefix);
  const std::string start = testing::to_base64(prefix);
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  etcd("/v3/kv/deleterange", R"({"key":")" + start + R"(","range_end":")" + testing::to_base64(end) + R"("})");
}

TEST_F(CliTest, CheckConfigSourceReportsEveryBadZooKeeperKey) {
  const std::string hosts = testing::required_env("INTAKE_ZK_HOSTS");
  testing::ZkClient zk(hosts);
  const std::string root = "/" + testing::unique_name("it-cli");
  put_mixed_tree([&](const std::string& key, const std::string& value) { zk.create(root + "/" + key, value); });
  const auto path =
      write_config("config:\n  source: zookeeper\n  zookeeper: {hosts: \"" + hosts + "\", root: \"" + root + "\"}\n");
  expect_mixed_tree_report(run_intake({"check-config", "--config", path, "--source"}), root + "/");
  zk.remove_tree(root);
}

TEST_F(CliTest, CheckConfigSourceExits3WhenTheRegistryCannotBeRead) {
  const auto path = write_config("config:\n  source: consul\n  consul: {address: \"http://127.0.0.1:" +
                                 std::to_string(testing::free_port()) + "\", prefix: \"it-cli-nobody/\"}\n");
  const auto outcome = run_intake({"check-config", "--config", path, "--source"});
  EXPECT_EQ(outcome.exit_code, 3) << outcome.output;
  EXPECT_NE(outcome.output.find("cannot read the registry: consul_kv: cannot connect to 127.0.0.1"), std::string::npos)
      << outcome.output;
  EXPECT_EQ(outcome.output.find("retrying"), std::string::npos) << outcome.output;
}

TEST_F(CliTest, CheckConfigAppliesOverridesAndPrintsThemWithSecretsRedacted) {
  const auto path = write_config("config: {consul: {token: file-token}}\n");
  const auto outcome =
      run_intake({"check-config", "--config", path, "--print"},
                 {"INTAKE_SERVER__LISTEN=127.0.0.1:9000", "INTAKE_CONFIG__ETCD__PASSWORD=env-password"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.output;
  EXPECT_NE(outcome.output.find("2 environment overrides"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("127.0.0.1:9000"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("127.0.0.1:18080"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("file-token"), std::string::npos) << outcome.output;
  EXPECT_EQ(outcome.output.find("env-password"), std::string::npos) << outcome.output;
  EXPECT_NE(outcome.output.find("<redacted>"), std::string::npos) << outcome.output;
}

TEST_F(CliTest, AnOverriddenListenAddressIsWhereTheGatewayServes) {
  const std::uint16_t file_port = testing::free_port();
  std::uint16_t env_port = testing::free_port();
  while (env_port == file_port) env_port = testing::free_port();
  testing::GatewayYaml yaml;
  yaml.port = file_port;
  yaml.bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  // The child inherits this process's environment at fork; the variable is gone right after.
  const std::string value = "127.0.0.1:" + std::to_string(env_port);
  ::setenv("INTAKE_SERVER__LISTEN", value.c_str(), 1);
  std::unique_ptr<testing::GatewayProcess> gateway;
  try {
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), env_port);
  } catch (...) {
    ::unsetenv("INTAKE_SERVER__LISTEN");
    throw;
  }
  ::unsetenv("INTAKE_SERVER__LISTEN");
  EXPECT_EQ(testing::http_request("127.0.0.1", env_port, "GET", "/healthz").status, 200);
  EXPECT_EQ(testing::try_request("127.0.0.1", file_port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").fate,
            testing::RequestFate::kRefused);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
}

TEST_F(CliTest, ABadOverrideStopsTheGatewayWithAClearMessageAndExit2) {
  const auto path = write_config("");
  const auto bad_value = run_intake({"run", "--config", path}, {"INTAKE_SERVER__LISTEN=127.0.0.1:99999"});
  EXPECT_EQ(bad_value.exit_code, 2) << bad_value.output;
  EXPECT_NE(bad_value.output.find("server.listen (port): must be between 1 and 65535, got 99999 (set by environment "
                                  "variable INTAKE_SERVER__LISTEN)"),
            std::string::npos)
      << bad_value.output;
  const auto unknown = run_intake({"run", "--config", path}, {"INTAKE_SERVER__LISTN=127.0.0.1:9000"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("server.listn: unknown field"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("INTAKE_SERVER__LISTN"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace intake
