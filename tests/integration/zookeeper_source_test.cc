// ZooKeeperSource against the real ZooKeeper (scripts/peers/zookeeper.sh): a recording
// UpdateCallbacks sees complete trees while the tests change znodes with the C client, each
// under a root of its own. Connection loss and session expiry are produced without touching
// the shared server: through a TCP proxy the test cuts, and by closing the source's session
// from a second handle that attaches to it (the classic "steal the session" trick).
#include <gtest/gtest.h>
// The synchronous calls the tests write with exist only in the multithreaded client, and its
// header declares them only under THREADED.
#define THREADED
#include <zookeeper/zookeeper.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"
#include "sources/zookeeper.h"
#include "tcp_proxy.h"
#include "zk_client.h"

namespace intake {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sources::ZooKeeperOptions;
using sources::ZooKeeperSource;
using testing::eventually;
using testing::TcpProxy;

long long ms_since(Clock::time_point start, Clock::time_point end = Clock::now()) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(end - start).count();
}

using testing::zk_check;
using testing::ZkClient;

// Records what the source reports, with arrival times.
class Recorder final : public config::UpdateCallbacks {
 public:
  using Predicate = std::function<bool(const config::RawTree&)>;

  void on_tree(config::RawTree tree) override {
    std::lock_guard lock(mutex_);
    trees_.push_back({Clock::now(), std::move(tree)});
  }
  void on_brokers(std::string_view, std::vector<std::string>) override {}
  void on_source_error(std::string_view source, std::string_view message) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::string(source) + ": " + std::string(message));
  }

  std::size_t tree_count() const {
    std::lock_guard lock(mutex_);
    return trees_.size();
  }
  // Waits until the latest tree satisfies `predicate`; returns when the first tree from index
  // `since` on that satisfies it arrived, or nullopt at the deadline.
  std::optional<Clock::time_point> wait_for(const Predicate& predicate, std::size_t since = 0,
                                            std::chrono::milliseconds deadline = 15s) {
    const bool reached = eventually(
        [&] {
          std::lock_guard lock(mutex_);
          return !trees_.empty() && predicate(trees_.back().tree);
        },
        deadline, 5ms);
    if (!reached) return std::nullopt;
    std::lock_guard lock(mutex_);
    for (std::size_t i = since; i < trees_.size(); ++i) {
      if (predicate(trees_[i].tree)) return trees_[i].arrived;
    }
    return trees_.back().arrived;
  }
  // How many trees from index `since` on fail `predicate`.
  std::size_t count_failing(const Predicate& predicate, std::size_t since) const {
    std::lock_guard lock(mutex_);
    std::size_t failing = 0;
    for (std::size_t i = since; i < trees_.size(); ++i) failing += predicate(trees_[i].tree) ? 0 : 1;
    return failing;
  }
  config::RawTree latest() const {
    std::lock_guard lock(mutex_);
    return trees_.empty() ? config::RawTree{} : trees_.back().tree;
  }
  bool error_containing(const std::string& text) const {
    std::lock_guard lock(mutex_);
    for (const auto& error : errors_) {
      if (error.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string errors() const {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& error : errors_) all += error + "\n";
    return all;
  }

 private:
  struct Arrival {
    Clock::time_point arrived;
    config::RawTree tree;
  };
  mutable std::mutex mutex_;
  std::vector<Arrival> trees_;
  std::vector<std::string> errors_;
};

// Predicates on one tree.
Recorder::Predicate has(const std::string& key, const std::string& value) {
  return [key, value](const config::RawTree& tree) {
    const auto it = tree.entries.find(key);
    return it != tree.entries.end() && it->second == value;
  };
}
Recorder::Predicate lacks(const std::string& key) {
  return [key](const config::RawTree& tree) { return tree.entries.count(key) == 0; };
}
Recorder::Predicate is(std::map<std::string, std::string> entries) {
  return [entries = std::move(entries)](const config::RawTree& tree) { return tree.entries == entries; };
}
Recorder::Predicate size_is(std::size_t size) {
  return [size](const config::RawTree& tree) { return tree.entries.size() == size; };
}

std::uint16_t port_of(const std::string& hosts) {
  return static_cast<std::uint16_t>(std::stoi(hosts.substr(hosts.rfind(':') + 1)));
}

class ZooKeeperSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hosts = testing::required_env("INTAKE_ZK_HOSTS");
    zk = std::make_unique<ZkClient>(hosts);
    root = "/" + testing::unique_name("it-zk");
  }
  void TearDown() override {
    stop_source();
    running_proxy.reset();  // after the source: its session is closed through the proxy, not left to expire
    try {
      zk->remove_tree(root);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleanup of " << root << ": " << e.what();
    }
  }

  void start_source(ZooKeeperOptions settings = {}) {
    if (settings.hosts == ZooKeeperOptions{}.hosts) settings.hosts = hosts;
    settings.root = root;
    source = std::make_unique<ZooKeeperSource>(settings);
    source->start(control, recorder);
  }
  // Stops the source and returns how long stop() took.
  std::chrono::milliseconds stop_source() {
    const auto before = Clock::now();
    if (source) source->stop();
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - before);
  }

  std::string path(const std::string& relative) const { return root + "/" + relative; }

  // A proxy to 127.0.0.1:upstream_port that lives until the source is stopped, so the source
  // can close its session (an earlier test's session expiring later would look, in `mntr`,
  // like this test's).
  TcpProxy& start_proxy(std::uint16_t upstream_port) {
    running_proxy = std::make_unique<TcpProxy>(upstream_port);
    return *running_proxy;
  }

  std::string hosts;
  std::unique_ptr<ZkClient> zk;
  std::string root;
  asio::io_context control;  // what the gateway passes; the ZooKeeper source does not use it
  Recorder recorder;
  std::unique_ptr<ZooKeeperSource> source;
  std::unique_ptr<TcpProxy> running_proxy;  // see start_proxy
};

TEST_F(ZooKeeperSourceTest, MissingRootIsAnEmptyTreeAndIsLoadedWhenItAppears) {
  start_source();
  ASSERT_TRUE(recorder.wait_for(size_is(0))) << recorder.errors();
  EXPECT_EQ(recorder.latest().source, "zookeeper");
  EXPECT_EQ(recorder.latest().prefix, root + "/");
  zk->create(path("keys/team-a"), R"({"secret_sha256":"x"})");
  EXPECT_TRUE(recorder.wait_for(is({{"keys/team-a", R"({"secret_sha256":"x"})"}})));
  EXPECT_NE(recorder.latest().revision, "0x0");
  EXPECT_EQ(recorder.latest().revision.rfind("0x", 0), 0u);
}

TEST_F(ZooKeeperSourceTest, CreatedChangedAndDeletedKeysAreReported) {
  zk->create(path("settings"), R"({"default_mode":"async"})");
  start_source();
  ASSERT_TRUE(recorder.wait_for(is({{"settings", R"({"default_mode":"async"})"}}))) << recorder.errors();
  zk->create(path("keys/a"), "v1");
  ASSERT_TRUE(recorder.wait_for(has("keys/a", "v1")));
  zk->set(path("keys/a"), "v2");
  ASSERT_TRUE(recorder.wait_for(has("keys/a", "v2")));
  zk->set(path("keys/a"), "");
  ASSERT_TRUE(recorder.wait_for(has("keys/a", "")));
  zk->remove(path("keys/a"));
  // The emptied folder "keys" is not an entry (it had children): only settings remains.
  EXPECT_TRUE(recorder.wait_for(is({{"settings", R"({"default_mode":"async"})"}})));
  const auto stats = source->stats();
  EXPECT_GE(stats.snapshots, 5u);
  EXPECT_EQ(stats.errors, 0u) << recorder.errors();
  EXPECT_EQ(stats.revision, recorder.latest().revision);
}

TEST_F(ZooKeeperSourceTest, EmptyZnodeWithoutChildrenIsAnEntryWithAnEmptyValue) {
  zk->ensure(path("brokers/127.0.0.1:9092"));
  start_source();
  EXPECT_TRUE(recorder.wait_for(is({{"brokers/127.0.0.1:9092", ""}}))) << recorder.errors();
}

TEST_F(ZooKeeperSourceTest, NewFolderWholeDeleteAndRecreateAreReported) {
  zk->create(path("keys/a"), "1");
  start_source();
  ASSERT_TRUE(recorder.wait_for(is({{"keys/a", "1"}}))) << recorder.errors();
  zk->create(path("topics/deep/t1"), "x");
  zk->create(path("topics/deep/t2"), "y");
  ASSERT_TRUE(recorder.wait_for(is({{"keys/a", "1"}, {"topics/deep/t1", "x"}, {"topics/deep/t2", "y"}})));
  zk->remove_tree(root);
  ASSERT_TRUE(recorder.wait_for(size_is(0)));
  zk->create(path("keys/b"), "2");
  EXPECT_TRUE(recorder.wait_for(is({{"keys/b", "2"}})));
  // A key deleted and re-created at once comes back with its new value.
  const std::size_t since = recorder.tree_count();
  zk->remove(path("keys/b"));
  zk->create(path("keys/b"), "3");
  EXPECT_TRUE(recorder.wait_for(is({{"keys/b", "3"}}), since));
  EXPECT_EQ(source->stats().errors, 0u) << recorder.errors();
}

// Two entries changed in one transaction, 300 times, while the source reports without
// coalescing: no reported tree may show one entry's new value with the other's old one.
TEST_F(ZooKeeperSourceTest, MultiOpIsNeverReportedHalfApplied) {
  zk->create(path("keys/k"), "0");
  zk->create(path("topics/t"), "0");
  ZooKeeperOptions settings;
  settings.report_interval = 0ms;  // report at every point where no read is outstanding
  start_source(settings);
  ASSERT_TRUE(recorder.wait_for(is({{"keys/k", "0"}, {"topics/t", "0"}}))) << recorder.errors();
  const std::size_t since = recorder.tree_count();
  const auto consistent = [](const config::RawTree& tree) {
    const auto k = tree.entries.find("keys/k"), t = tree.entries.find("topics/t");
    return k != tree.entries.end() && t != tree.entries.end() && k->second == t->second;
  };
  constexpr int kFlips = 300;
  for (int i = 1; i <= kFlips; ++i) {
    zk->multi_set({{path("keys/k"), std::to_string(i)}, {path("topics/t"), std::to_string(i)}});
  }
  ASSERT_TRUE(recorder.wait_for(has("topics/t", std::to_string(kFlips)), since));
  const std::size_t reported = recorder.tree_count() - since;
  std::printf("multi-op: %d transactions, %zu trees reported, %zu torn\n", kFlips, reported,
              recorder.count_failing(consistent, since));
  EXPECT_EQ(recorder.count_failing(consistent, since), 0u);
  EXPECT_GE(reported, 1u);

  // Transactions creating a folder with two keys, then deleting both keys, then creating
  // them again...: a tree never holds one of the pair without the other.
  const std::size_t before_pair = recorder.tree_count();
  const auto pair_whole = [](const config::RawTree& tree) {
    return tree.entries.count("keys/pair/x") == tree.entries.count("keys/pair/y");
  };
  std::array<char, 256> created{};
  const std::string folder = path("keys/pair"), x = path("keys/pair/x"), y = path("keys/pair/y");
  constexpr int kPairs = 50;
  for (int i = 0; i < kPairs; ++i) {
    std::vector<zoo_op_t> ops(3);
    std::size_t count = 0;
    if (i == 0) {
      zoo_create_op_init(&ops[count++], folder.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                         created.data(), created.size());
    }
    zoo_create_op_init(&ops[count++], x.c_str(), "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, created.data(),
                       created.size());
    zoo_create_op_init(&ops[count++], y.c_str(), "y", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, created.data(),
                       created.size());
    std::vector<zoo_op_result_t> results(count);
    ASSERT_EQ(zoo_multi(zk->handle(), static_cast<int>(count), ops.data(), results.data()), ZOK);
    zoo_delete_op_init(&ops[0], x.c_str(), -1);
    zoo_delete_op_init(&ops[1], y.c_str(), -1);
    ASSERT_EQ(zoo_multi(zk->handle(), 2, ops.data(), results.data()), ZOK);
  }
  zk->create(path("keys/done"), "1");
  ASSERT_TRUE(recorder.wait_for(has("keys/done", "1"), before_pair));
  std::printf("multi-op: %d pairs created and deleted, %zu trees reported, %zu torn\n", kPairs,
              recorder.tree_count() - before_pair, recorder.count_failing(pair_whole, before_pair));
  EXPECT_EQ(recorder.count_failing(pair_whole, before_pair), 0u);
  EXPECT_EQ(recorder.count_failing(consistent, before_pair), 0u);
}

// A failed read (here: no permission) holds reports back and is retried with backoff until it
// succeeds; the errors are reported and counted, and the retries do not spin.
TEST_F(ZooKeeperSourceTest, UnreadableZnodeIsRetriedWithBackoffUntilReadable) {
  ZkClient owner(hosts);
  const std::string credentials = "it-owner:secret";
  zk_check(zoo_add_auth(owner.handle(), "digest", credentials.data(), static_cast<int>(credentials.size()), nullptr,
                        nullptr),
           "add_auth");
  zk->create(path("keys/open"), "1");
  owner.create(path("keys/locked"), "2", &ZOO_CREATOR_ALL_ACL);
  start_source();
  ASSERT_TRUE(eventually([&] { return recorder.error_containing(path("keys/locked")); })) << recorder.errors();
  std::this_thread::sleep_for(2s);
  const auto stats = source->stats();
  EXPECT_EQ(recorder.tree_count(), 0u) << "a tree without the unreadable key must not be reported";
  // Two reads (data, children) per round; rounds at ~0.25, 0.75, 1.75 s: a handful, not a spin.
  EXPECT_GE(stats.errors, 2u);
  EXPECT_LE(stats.errors, 10u) << recorder.errors();
  zk_check(zoo_set_acl(owner.handle(), path("keys/locked").c_str(), -1, &ZOO_OPEN_ACL_UNSAFE), "set_acl");
  EXPECT_TRUE(recorder.wait_for(is({{"keys/locked", "2"}, {"keys/open", "1"}}), 0, 40s)) << recorder.errors();
}

TEST_F(ZooKeeperSourceTest, TenThousandKeysLoadAndASingleChangeRereadsOnlyWhatChanged) {
  constexpr int kKeys = 10'000;
  // Each measured change follows a quiet period, so the report is not held back by the
  // coalescing interval (50 ms) started by the previous report.
  constexpr auto kQuiet = 200ms;
  zk->ensure(path("keys"));
  std::vector<std::pair<std::string, std::string>> nodes;
  for (int i = 0; i < kKeys; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "k%05d", i);
    nodes.emplace_back(path(std::string("keys/") + name), R"({"secret_sha256":"n)" + std::to_string(i) + R"("})");
  }
  auto started = Clock::now();
  zk->create_many(nodes);
  std::printf("10k: created %d znodes in %lld ms\n", kKeys, ms_since(started));

  started = Clock::now();
  start_source();
  const auto loaded = recorder.wait_for(size_is(kKeys), 0, 120s);
  ASSERT_TRUE(loaded) << recorder.errors();
  const auto load_ms = ms_since(started, *loaded);
  const auto load_requests = source->stats().requests;

  // One value changed: one read.
  std::this_thread::sleep_for(kQuiet);
  std::size_t since = recorder.tree_count();
  auto requests = source->stats().requests;
  started = Clock::now();
  zk->set(path("keys/k05000"), "changed");
  const auto changed = recorder.wait_for(has("keys/k05000", "changed"), since);
  ASSERT_TRUE(changed);
  const auto change_ms = ms_since(started, *changed);
  const auto change_requests = source->stats().requests - requests;

  // One key added: the folder listed again, the new key read.
  std::this_thread::sleep_for(kQuiet);
  since = recorder.tree_count();
  requests = source->stats().requests;
  started = Clock::now();
  zk->create(path("keys/new"), "n");
  const auto added = recorder.wait_for(has("keys/new", "n"), since);
  ASSERT_TRUE(added);
  const auto add_ms = ms_since(started, *added);
  const auto add_requests = source->stats().requests - requests;

  // One key deleted: the folder listed again, after a barrier (nothing else was outstanding).
  std::this_thread::sleep_for(kQuiet);
  since = recorder.tree_count();
  requests = source->stats().requests;
  started = Clock::now();
  zk->remove(path("keys/k00001"));
  const auto deleted = recorder.wait_for(lacks("keys/k00001"), since);
  ASSERT_TRUE(deleted);
  const auto delete_ms = ms_since(started, *deleted);
  const auto delete_requests = source->stats().requests - requests;
  EXPECT_EQ(recorder.latest().entries.size(), static_cast<std::size_t>(kKeys));

  // Everything deleted (pipelined, deepest first) while the source watches.
  since = recorder.tree_count();
  started = Clock::now();
  zk->remove_tree(root);
  const auto emptied = recorder.wait_for(size_is(0), since, 120s);
  ASSERT_TRUE(emptied);
  const auto empty_ms = ms_since(started, *emptied);
  const auto burst_trees = recorder.tree_count() - since;

  std::printf(
      "10k: load %lld ms (%llu requests); value change reported in %lld ms (%llu requests); "
      "key added in %lld ms (%llu requests); key deleted in %lld ms (%llu requests); "
      "recursive delete of all reported empty %lld ms after it started (%zu trees)\n",
      static_cast<long long>(load_ms), static_cast<unsigned long long>(load_requests),
      static_cast<long long>(change_ms), static_cast<unsigned long long>(change_requests),
      static_cast<long long>(add_ms), static_cast<unsigned long long>(add_requests), static_cast<long long>(delete_ms),
      static_cast<unsigned long long>(delete_requests), static_cast<long long>(empty_ms), burst_trees);
  EXPECT_EQ(change_requests, 1u);
  EXPECT_EQ(add_requests, 3u);
  EXPECT_EQ(delete_requests, 2u);
  EXPECT_EQ(source->stats().errors, 0u) << recorder.errors();
}

// The classic trick: a second handle attaches to the source's session (same id and password)
// and closes it. The source's connection goes through a proxy cut meanwhile — otherwise its
// client reconnects at once and takes the session back before the second handle closes it.
// On reconnecting the source learns the session expired, opens a new one and reads everything
// again; changes made meanwhile are in the new tree.
TEST_F(ZooKeeperSourceTest, SessionClosedByAnotherHandleIsReplacedAndTheTreeReadAgain) {
  TcpProxy& proxy = start_proxy(port_of(hosts));
  zk->create(path("keys/a"), "1");
  ZooKeeperOptions settings;
  settings.hosts = "127.0.0.1:" + std::to_string(proxy.port());
  start_source(settings);
  ASSERT_TRUE(recorder.wait_for(is({{"keys/a", "1"}}))) << recorder.errors();
  const auto original = source->session();
  ASSERT_TRUE(original);
  proxy.cut();
  {
    clientid_t id{};
    id.client_id = original->id;
    std::memcpy(id.passwd, original->password.data(), sizeof(id.passwd));
    ZkClient thief(hosts, &id);
    ASSERT_EQ(zoo_client_id(thief.handle())->client_id, original->id);
  }  // zookeeper_close ends the session
  zk->set(path("keys/a"), "2");
  zk->create(path("keys/b"), "3");
  proxy.restore();
  ASSERT_TRUE(eventually([&] { return recorder.error_containing("expired"); })) << recorder.errors();
  EXPECT_TRUE(recorder.wait_for(is({{"keys/a", "2"}, {"keys/b", "3"}}))) << recorder.errors();
  ASSERT_TRUE(eventually([&] { return source->session() && source->session()->id != original->id; }));
  // The new session's watches work.
  zk->set(path("keys/b"), "4");
  EXPECT_TRUE(recorder.wait_for(is({{"keys/a", "2"}, {"keys/b", "4"}})));
}

// A connection cut shorter than the session timeout: an error is reported, the last tree
// stays (nothing is reported while cut), and after the reconnect — same session — the
// changes made during the cut are read.
TEST_F(ZooKeeperSourceTest, LostConnectionKeepsTheTreeAndRereadsAfterReconnecting) {
  TcpProxy& proxy = start_proxy(port_of(hosts));
  zk->create(path("keys/a"), "1");
  ZooKeeperOptions settings;
  settings.hosts = "127.0.0.1:" + std::to_string(proxy.port());
  start_source(settings);
  ASSERT_TRUE(recorder.wait_for(is({{"keys/a", "1"}}))) << recorder.errors();
  const auto session = source->session();
  ASSERT_TRUE(session);
  const std::size_t before_cut = recorder.tree_count();
  proxy.cut();
  ASSERT_TRUE(eventually([&] { return recorder.error_containing("lost the connection"); })) << recorder.errors();
  zk->set(path("keys/a"), "2");
  zk->create(path("keys/b"), "3");
  // "not connected" comes after a second without a connection: a second in which the source
  // must have reported nothing.
  EXPECT_TRUE(eventually([&] { return recorder.error_containing("not connected"); })) << recorder.errors();
  EXPECT_EQ(recorder.tree_count(), before_cut);
  proxy.restore();
  EXPECT_TRUE(recorder.wait_for(is({{"keys/a", "2"}, {"keys/b", "3"}}), before_cut)) << recorder.errors();
  ASSERT_TRUE(source->session());
  EXPECT_EQ(source->session()->id, session->id);
  zk->remove(path("keys/b"));
  EXPECT_TRUE(recorder.wait_for(is({{"keys/a", "2"}})));
}

// A cut longer than the session timeout: the server expires the session; on reconnecting the
// source learns it, opens a new session and reads the tree again.
TEST_F(ZooKeeperSourceTest, SessionExpiredDuringALongOutageIsReplaced) {
  TcpProxy& proxy = start_proxy(port_of(hosts));
  zk->create(path("keys/a"), "1");
  ZooKeeperOptions settings;
  settings.hosts = "127.0.0.1:" + std::to_string(proxy.port());
  settings.session_timeout = 4s;  // the server's minimum (2 ticks of 2 s)
  start_source(settings);
  ASSERT_TRUE(recorder.wait_for(is({{"keys/a", "1"}}))) << recorder.errors();
  const auto session = source->session();
  ASSERT_TRUE(session);
  const auto expired_before = testing::zk_monitor_value(hosts, "zk_stale_sessions_expired");
  const auto cut_at = Clock::now();
  proxy.cut();
  zk->remove(path("keys/a"));
  zk->create(path("keys/b"), "2");
  // The server expires a silent session in its next check after the timeout (it checks once a
  // tick, 2 s): restore the connection only once it has. Sessions closed by their clients
  // are not counted as expired.
  ASSERT_TRUE(eventually([&] { return testing::zk_monitor_value(hosts, "zk_stale_sessions_expired") > expired_before; },
                         20s, 100ms));
  std::printf("session expired by the server %lld ms after the cut\n", ms_since(cut_at));
  proxy.restore();
  EXPECT_TRUE(recorder.wait_for(is({{"keys/b", "2"}}), 0, 30s)) << recorder.errors();
  EXPECT_TRUE(recorder.error_containing("expired")) << recorder.errors();
  ASSERT_TRUE(source->session());
  EXPECT_NE(source->session()->id, session->id);
}

TEST_F(ZooKeeperSourceTest, StopReturnsWithinOneSecondConnectedOrNot) {
  zk->create(path("keys/a"), "1");
  start_source();
  ASSERT_TRUE(recorder.wait_for(size_is(1))) << recorder.errors();
  const auto connected_stop = stop_source();

  // A proxy to a port nothing listens on: it counts the client's attempts and closes each.
  TcpProxy& proxy = start_proxy(testing::free_port());
  ZooKeeperOptions settings;
  settings.hosts = "127.0.0.1:" + std::to_string(proxy.port());
  start_source(settings);
  ASSERT_TRUE(eventually([&] { return proxy.accepted() >= 1; }));  // it has tried and failed
  const auto unconnected_stop = stop_source();
  std::printf("stop: %lld ms connected, %lld ms while not connected\n", static_cast<long long>(connected_stop.count()),
              static_cast<long long>(unconnected_stop.count()));
  EXPECT_LT(connected_stop, 1s);
  EXPECT_LT(unconnected_stop, 1s);
}

}  // namespace
}  // namespace intake
