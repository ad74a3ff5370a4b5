// The files in examples/ as an operator uses them: every example YAML passes check-config;
// examples/load-tree.sh writes examples/registry-tree/ into the real Consul, etcd and ZooKeeper,
// check-config --source accepts what it wrote, and the gateway started with each source's
// example YAML serves that tree: a key that exists only in the tree (team-a) produces to a topic
// whose settings exist only in the tree (events.orders: sync), and the record is read back from
// Kafka. The examples are used as they are, with only addresses, ports and prefixes replaced.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_process.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"
#include "temp_dir.h"

namespace intake {
namespace {

namespace fs = std::filesystem;
using testing::run_intake;

const std::string kExamples = std::string(INTAKE_SOURCE_DIR) + "/examples";
constexpr const char* kTeamASecret = "team-a-secret";  // examples/registry-tree/keys/team-a

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Replaces `from` (which must be there: an example that changed shape fails loudly).
void replace(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "the example no longer holds '" << from << "'";
  text.replace(at, from.size(), to);
}

std::string shell_quoted(const std::string& arg) { return "'" + arg + "'"; }

class Examples : public ::testing::Test {
 protected:
  // examples/registry-tree/ copied, its broker entry renamed to the test's Kafka (the example
  // names the local peer's default address).
  std::string tree_for_this_kafka() {
    const std::string tree = dir.path() + "/registry-tree";
    fs::copy(kExamples + "/registry-tree", tree, fs::copy_options::recursive);
    fs::remove_all(tree + "/brokers");
    fs::create_directory(tree + "/brokers");
    std::ofstream(tree + "/brokers/" + bootstrap);
    return tree;
  }

  // examples/sources/<source>.yaml with the test's addresses; `registry` replaces the
  // registry's address line and `where` its prefix or root line (pairs of from → to).
  std::string example_yaml(const std::string& source, std::uint16_t port,
                           const std::vector<std::pair<std::string, std::string>>& edits) {
    std::string yaml = read_text(kExamples + "/sources/" + source + ".yaml");
    replace(yaml, "listen: 127.0.0.1:8080", "listen: 127.0.0.1:" + std::to_string(port));
    replace(yaml, "bootstrap_servers: 127.0.0.1:19092", "bootstrap_servers: " + bootstrap);
    for (const auto& [from, to] : edits) replace(yaml, from, to);
    const std::string path = dir.path() + "/" + source + ".yaml";
    std::ofstream(path) << yaml;
    return path;
  }

  // examples/load-tree.sh <registry> <prefix>, with the tree of tree_for_this_kafka().
  void load_tree(const std::string& registry, const std::string& prefix, const std::string& tree) {
    const std::string log = dir.path() + "/load-tree-" + registry + ".log";
    const std::string command = "INTAKE_TREE=" + shell_quoted(tree) + " bash " +
                                shell_quoted(kExamples + "/load-tree.sh") + " " + registry + " " +
                                shell_quoted(prefix) + " > " + shell_quoted(log) + " 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << read_text(log);
    EXPECT_NE(read_text(log).find("wrote 5 entries under " + prefix), std::string::npos) << read_text(log);
  }

  // check-config --source accepts the tree; then the gateway serves it: team-a (a key only the
  // tree has) produces a record to events.orders (sync only by the tree's topics/ entry), which
  // is read back from Kafka.
  void expect_served(const std::string& config_path, std::uint16_t port) {
    const auto checked = run_intake({"check-config", "--config", config_path, "--source"});
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    EXPECT_NE(checked.output.find(" 0 bad"), std::string::npos) << checked.output;

    testing::GatewayProcess gateway(read_text(config_path), port);
    const std::string value = R"({"example":")" + testing::unique_name("example") + R"("})";
    testing::HttpReply reply;
    // The tree may land just after /healthz answers (on_unreachable_at_start: use_file).
    ASSERT_TRUE(testing::eventually([&] {
      reply = testing::http_request("127.0.0.1", port, "POST", "/v1/topics/events.orders", value,
                                    {{"Authorization", std::string("Bearer ") + kTeamASecret}});
      return reply.status != 401;
    })) << reply.body;
    // 200, not 202: the tree's topics/events.orders makes the topic sync.
    EXPECT_EQ(reply.status, 200) << reply.body;
    const auto records = testing::consume_topic(
        bootstrap, "events.orders",
        [&](const auto& got) {
          for (const auto& record : got) {
            if (record.value == value) return true;
          }
          return false;
        },
        std::chrono::seconds(60));
    bool found = false;
    for (const auto& record : records) found = found || record.value == value;
    EXPECT_TRUE(found) << "the record is not in events.orders";
    EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();
  }

  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  testing::TempDir dir{"intake-examples"};
};

TEST_F(Examples, EveryExampleYamlPassesCheckConfig) {
  std::vector<std::string> files = {kExamples + "/intake.yaml"};
  for (const auto& entry : fs::directory_iterator(kExamples + "/sources")) files.push_back(entry.path().string());
  ASSERT_EQ(files.size(), 5u) << "intake.yaml and one YAML per source (consul, etcd, zookeeper, file)";
  for (const auto& file : files) {
    // Relative paths in the examples (the file source's tree) are relative to the repository.
    const auto outcome = run_intake({"check-config", "--config", file});
    EXPECT_EQ(outcome.exit_code, 0) << file << ":\n" << outcome.output;
  }
}

TEST_F(Examples, ConsulServesTheTreeLoadTreeWrote) {
  const std::string prefix = testing::unique_name("it-example") + "/";
  load_tree("consul", prefix, tree_for_this_kafka());
  const std::uint16_t port = testing::free_port();
  expect_served(
      example_yaml("consul", port,
                   {{"address: http://127.0.0.1:18500", "address: " + testing::required_env("INTAKE_CONSUL_ADDR")},
                    {"prefix: intake/", "prefix: " + prefix}}),
      port);
}

TEST_F(Examples, EtcdServesTheTreeLoadTreeWrote) {
  const std::string prefix = testing::unique_name("it-example") + "/";
  load_tree("etcd", prefix, tree_for_this_kafka());
  const std::uint16_t port = testing::free_port();
  expect_served(
      example_yaml("etcd", port,
                   {{"address: http://127.0.0.1:12379", "address: " + testing::required_env("INTAKE_ETCD_ENDPOINT")},
                    {"prefix: intake/", "prefix: " + prefix}}),
      port);
}

TEST_F(Examples, ZooKeeperServesTheTreeLoadTreeWrote) {
  const std::string root = "/" + testing::unique_name("it-example");
  load_tree("zookeeper", root, tree_for_this_kafka());
  const std::uint16_t port = testing::free_port();
  expect_served(example_yaml("zookeeper", port,
                             {{"hosts: 127.0.0.1:12181", "hosts: " + testing::required_env("INTAKE_ZK_HOSTS")},
                              {"root: /intake", "root: " + root}}),
                port);
}

TEST_F(Examples, FileSourceServesTheTreeDirectory) {
  const std::uint16_t port = testing::free_port();
  expect_served(example_yaml("file", port, {{"path: examples/registry-tree", "path: " + tree_for_this_kafka()}}), port);
}

}  // namespace
}  // namespace intake
