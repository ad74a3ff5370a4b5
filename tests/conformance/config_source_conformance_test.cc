// One suite, every config source: the same cases run against the real Consul, etcd and
// ZooKeeper started by the scripts and against the file source. Each case drives the registry
// with its own API and watches what the source → ConfigPlane → ConfigStore chain (the gateway's
// control path, without HTTP) publishes. Backends are stopped and restarted here, so ctest runs
// this suite alone (RUN_SERIAL).
#include <gtest/gtest.h>
#include <signal.h>

#include <utility>  // before Boost 1.74's asio headers

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>

#include "backends.h"
#include "config/plane.h"
#include "config/store.h"
#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake::conformance {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::key_json;

// The gateway's control path for one source: the source runs on a control io_context thread
// and reports to a ConfigPlane that publishes into a ConfigStore.
class ControlPath {
 public:
  ControlPath(Backend& backend, std::function<void(const config::Config&)> on_publish = {},
              config::PlaneOptions options = {})
      : plane_(store_, options), source_(backend.make_source()) {
    if (on_publish) store_.on_publish(std::move(on_publish));
    source_->start(context_, plane_);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~ControlPath() {
    context_.stop();
    if (thread_.joinable()) thread_.join();
    source_->stop();
  }
  const config::ConfigStore& store() const { return store_; }
  sources::SourceStats stats() const { return source_->stats(); }

  const config::ApiKey* key(const std::string& id) const {
    snapshot_ = store_.current();
    for (const auto& [digest, key] : snapshot_->keys) {
      if (key.id == id) return &key;
    }
    return nullptr;
  }
  std::size_t key_count() const { return store_.current()->keys.size(); }
  bool applied() const { return plane_.registry_applied(); }

 private:
  config::ConfigStore store_;
  config::ConfigPlane plane_;
  std::unique_ptr<sources::Source> source_;
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{context_.get_executor()};
  std::thread thread_;
  mutable std::shared_ptr<const config::Config> snapshot_;
};

struct BackendCase {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};

// Names the backend in test output instead of dumping the struct's bytes.
void PrintTo(const BackendCase& backend, std::ostream* out) { *out << backend.name; }

class ConfigSourceConformance : public ::testing::TestWithParam<BackendCase> {
 protected:
  void SetUp() override { backend = GetParam().make(); }
  std::unique_ptr<Backend> backend;
};

TEST_P(ConfigSourceConformance, AddChangeAndDeleteOneKey) {
  ControlPath path(*backend);
  ASSERT_TRUE(eventually([&] { return path.applied(); }));
  // A second key, so that deleting "a" is not an answer without keys (which would be held).
  backend->put("keys/anchor", key_json("secret-anchor", {"anchor"}));
  backend->put("keys/a", key_json("secret-a", {"one.*"}));
  ASSERT_TRUE(eventually([&] { return path.key("a") != nullptr; }));
  EXPECT_EQ(path.key("a")->topic_patterns, std::vector<std::string>{"one.*"});
  backend->put("keys/a", key_json("secret-a", {"two.*"}));
  EXPECT_TRUE(eventually([&] {
    auto* k = path.key("a");
    return k && k->topic_patterns == std::vector<std::string>{"two.*"};
  }));
  backend->remove("keys/a");
  EXPECT_TRUE(eventually([&] { return path.key("a") == nullptr; }));
  EXPECT_FALSE(path.store().last_rejected());
}

// Deleting everything removes every key: held (config.allow_empty_tree: false), the keys stay.
TEST_P(ConfigSourceConformance, DeletingEverythingIsHeldAndRecreatingWorks) {
  ControlPath path(*backend);
  backend->put_all(
      {{"keys/a", key_json("s-a", {"t"})}, {"keys/b", key_json("s-b", {"t"})}, {"keys/c", key_json("s-c", {"t"})}});
  ASSERT_TRUE(eventually([&] { return path.key_count() == 3; }));
  backend->remove_everything();
  ASSERT_TRUE(eventually([&] { return path.store().held().has_value(); }));
  EXPECT_EQ(path.key_count(), 3u);
  EXPECT_FALSE(path.store().last_rejected());  // held, not an error
  backend->put_all({{"keys/a", key_json("s-a", {"t"})}, {"keys/b", key_json("s-b", {"t"})}});
  EXPECT_TRUE(eventually([&] { return path.key_count() == 2; }));
  EXPECT_FALSE(path.store().held());
}

TEST_P(ConfigSourceConformance, WithAllowEmptyTreeDeletingEverythingIsAnEmptyConfig) {
  ControlPath path(*backend, {}, {.allow_empty_tree = true});
  backend->put_all({{"keys/a", key_json("s-a", {"t"})}, {"keys/b", key_json("s-b", {"t"})}});
  ASSERT_TRUE(eventually([&] { return path.key_count() == 2; }));
  backend->remove_everything();
  ASSERT_TRUE(eventually([&] { return path.key_count() == 0; }));
  EXPECT_FALSE(path.store().last_rejected());  // empty is valid, not an error
  EXPECT_FALSE(path.store().held());
  backend->put_all({{"keys/a", key_json("s-a", {"t"})}});
  EXPECT_TRUE(eventually([&] { return path.key_count() == 1; }));
}

TEST_P(ConfigSourceConformance, MalformedValueIsRejectedAndTheLastGoodConfigStays) {
  ControlPath path(*backend);
  backend->put("keys/good", key_json("s-good", {"t"}));
  ASSERT_TRUE(eventually([&] { return path.key("good") != nullptr; }));
  const auto good_version = path.store().current()->version;
  backend->put("keys/bad", "{ this is not json");
  ASSERT_TRUE(eventually([&] { return path.store().last_rejected().has_value(); }));
  EXPECT_NE(path.store().last_rejected()->error.find("keys/bad"), std::string::npos)
      << path.store().last_rejected()->error;
  EXPECT_EQ(path.store().current()->version, good_version);
  EXPECT_NE(path.key("good"), nullptr);
  backend->put("keys/bad", key_json("s-bad", {"t"}));
  EXPECT_TRUE(eventually([&] { return path.key("bad") != nullptr && path.key("good") != nullptr; }));
}

TEST_P(ConfigSourceConformance, TenThousandKeysLoad) {
  ControlPath path(*backend);
  ASSERT_TRUE(eventually([&] { return path.applied(); }));
  std::map<std::string, std::string> entries;
  for (int i = 0; i < 10'000; ++i)
    entries.emplace("keys/k" + std::to_string(i), key_json("secret-" + std::to_string(i), {"bulk.*"}));
  const auto started = std::chrono::steady_clock::now();
  backend->bulk_load(entries);
  const auto written = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return path.key_count() == 10'000; }, 120s, 50ms)) << path.key_count();
  const auto ms = [](auto d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  std::printf("%s: 10k keys written in %lld ms, applied %lld ms after the last write\n", backend->name().c_str(),
              ms(written - started), ms(std::chrono::steady_clock::now() - written));
}

// Each change sets two entries at once (a transaction, a multi-op, one file rename). Every
// published config must show both at the same generation, and the last one must win.
TEST_P(ConfigSourceConformance, ChangeBurstsNeverPublishHalfAChangeAndTheFinalStateWins) {
  std::atomic<int> torn{0}, published{0};
  ControlPath path(*backend, [&](const config::Config& config) {
    ++published;
    const config::ApiKey* a = nullptr;
    const config::ApiKey* b = nullptr;
    for (const auto& [digest, key] : config.keys) {
      if (key.id == "pair-a") a = &key;
      if (key.id == "pair-b") b = &key;
    }
    if ((a == nullptr) != (b == nullptr) || (a && a->topic_patterns != b->topic_patterns)) ++torn;
  });
  constexpr int kChanges = 200;
  for (int generation = 1; generation <= kChanges; ++generation) {
    const std::vector<std::string> topics{"gen-" + std::to_string(generation)};
    backend->put_all(
        {{"keys/pair-a", key_json("pair-a-secret", topics)}, {"keys/pair-b", key_json("pair-b-secret", topics)}});
  }
  const std::vector<std::string> last{"gen-" + std::to_string(kChanges)};
  EXPECT_TRUE(eventually([&] {
    auto* k = path.key("pair-b");
    return k && k->topic_patterns == last;
  }));
  EXPECT_EQ(path.key("pair-a")->topic_patterns, last);
  std::printf("%s: %d changes, %d configs published, %d torn\n", backend->name().c_str(), kChanges, published.load(),
              torn.load());
  EXPECT_EQ(torn.load(), 0);
}

// "Without a tight loop" is bounded on what each source does to reach its registry: an HTTP
// call (Consul, etcd) or a re-read of the missing file (file source), counted by the source
// itself; a connection to the server for ZooKeeper, whose C client reconnects by itself
// and is counted by the backend's proxy. The source must keep trying (at least one attempt)
// at a paced rate (Backend::max_attempts_in_5s_down); a spin makes thousands.
TEST_P(ConfigSourceConformance, BackendStoppedAndRestartedConvergesWithoutATightLoop) {
  ControlPath path(*backend);
  const auto attempts = [&] { return backend->connection_attempts().value_or(path.stats().requests); };
  backend->put("keys/a", key_json("secret-a", {"t"}));
  ASSERT_TRUE(eventually([&] { return path.key("a") != nullptr; }));
  backend->stop();
  const auto attempts_before = attempts();
  std::this_thread::sleep_for(5s);  // the window the attempts are counted in, not a wait for an event
  const auto attempts_during = attempts() - attempts_before;
  std::printf("%s: down 5 s, %llu attempts to reach it (%s; bound %llu)\n", backend->name().c_str(),
              static_cast<unsigned long long>(attempts_during),
              backend->connection_attempts() ? "connections through the proxy" : "the source's requests",
              static_cast<unsigned long long>(backend->max_attempts_in_5s_down()));
  EXPECT_GE(attempts_during, 1u);                                  // it keeps trying, and the count sees it
  EXPECT_LE(attempts_during, backend->max_attempts_in_5s_down());  // paced, not a spin
  EXPECT_NE(path.key("a"), nullptr);                               // the last good config keeps serving
  backend->start();                                                // comes back empty
  // An empty answer after keys is held: the key serves on until the registry holds keys again.
  EXPECT_TRUE(eventually([&] { return path.store().held().has_value(); }, 60s));
  EXPECT_NE(path.key("a"), nullptr);
  backend->put("keys/a", key_json("secret-a", {"after-restart"}));
  EXPECT_TRUE(eventually(
      [&] {
        auto* k = path.key("a");
        return k && k->topic_patterns == std::vector<std::string>{"after-restart"};
      },
      60s));
}

// The same registry through the real gateway binary, selected by config.source: a key put
// with the backend's own API is served, a changed right is enforced, a deleted key gets 401,
// and every record it was told was accepted (a 2xx) is in Kafka, once, and nothing else.
TEST_P(ConfigSourceConformance, TheGatewaySelectedByConfigSourceServesWhatTheRegistryHolds) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const std::uint16_t port = testing::free_port();
  const std::string topic = testing::unique_name("conf.gateway");
  const std::string more = topic + "-more";
  backend->put("keys/gw", key_json("gw-secret", {topic}));
  // Another key stays: deleting the only one would leave no keys, which is held.
  backend->put("keys/bystander", key_json("bystander-secret", {"conf.bystander"}));
  const std::string yaml = "server: {listen: \"127.0.0.1:" + std::to_string(port) + "\", threads: 2}\n" +
                           "kafka: {bootstrap_servers: \"" + bootstrap + "\"}\n" + backend->gateway_config_yaml();
  testing::GatewayProcess gateway(yaml, port);
  // Every post sends a value of its own; those answered 2xx are what Kafka must hold.
  std::map<std::string, std::set<std::string>> accepted;  // topic -> values
  int posts = 0;
  auto post = [&](const std::string& to_topic, const std::string& stem) {
    const std::string value = stem + "-" + std::to_string(++posts);
    const int status = testing::http_request("127.0.0.1", port, "POST", "/v1/topics/" + to_topic, value,
                                             {{"Authorization", "Bearer gw-secret"}})
                           .status;
    if (status >= 200 && status < 300) accepted[to_topic].insert(value);
    return status;
  };
  ASSERT_TRUE(eventually([&] { return post(topic, "first") == 202; }, 30s)) << gateway.log_tail();
  EXPECT_EQ(post(more, "not-yet"), 403);
  backend->put("keys/gw", key_json("gw-secret", {topic, more}));
  EXPECT_TRUE(eventually([&] { return post(more, "more") == 202; }, 30s)) << gateway.log_tail();
  backend->remove("keys/gw");
  // Posts before the delete took effect got 202: those are accepted records like any other.
  EXPECT_TRUE(eventually([&] { return post(topic, "gone") == 401; }, 30s)) << gateway.log_tail();
  EXPECT_EQ(gateway.stop(SIGTERM), 0) << gateway.log_tail();  // the drain hands everything to Kafka
  for (const std::string& to_topic : {topic, more}) {
    const auto delivery = testing::count_delivery(bootstrap, to_topic, accepted[to_topic]);
    std::printf("%s: %s accepted %zu, consumed %zu, lost %zu, duplicated %zu, unexpected %zu\n",
                backend->name().c_str(), to_topic.c_str(), accepted[to_topic].size(), delivery.consumed, delivery.lost,
                delivery.duplicated, delivery.unexpected);
    EXPECT_FALSE(accepted[to_topic].empty()) << to_topic;
    EXPECT_EQ(delivery.lost, 0u) << to_topic;
    EXPECT_EQ(delivery.duplicated, 0u) << to_topic;
    EXPECT_EQ(delivery.unexpected, 0u) << to_topic;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ConfigSourceConformance,
                         ::testing::Values(BackendCase{"consul", make_consul_backend},
                                           BackendCase{"etcd", make_etcd_backend},
                                           BackendCase{"zookeeper", make_zookeeper_backend},
                                           BackendCase{"file", make_file_backend}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace intake::conformance
