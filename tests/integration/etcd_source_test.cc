// EtcdSource against the real etcd that scripts/peers/etcd.sh starts: the reported trees
// converge on what `etcdctl` writes — puts, changes, deletes, a deleted prefix, a transaction,
// a watch that fell behind a compaction, a dropped connection — and authentication works
// against a private auth-enabled etcd started through the same script.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"
#include "source_runner.h"
#include "sources/etcd.h"

extern char** environ;

namespace intake {
namespace {

using namespace std::chrono_literals;
using Entries = std::map<std::string, std::string>;
using testing::eventually;

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// etcdctl, the operator's tool. It reads ETCD_* / ETCDCTL_* variables as flags, so it runs
// without any (as scripts/peers/etcd.sh does).
class Etcdctl {
 public:
  explicit Etcdctl(std::string endpoint, std::string user = "")
      : endpoint_(std::move(endpoint)), user_(std::move(user)) {}

  // Runs `etcdctl <args>` (args already quoted) and returns its output; throws when it fails.
  std::string run(const std::string& args, const std::string& input = "") const {
    std::string command = "env";
    for (char** variable = environ; *variable != nullptr; ++variable) {
      const std::string name(*variable, std::strchr(*variable, '=') - *variable);
      if (name.rfind("ETCD_", 0) == 0 || name.rfind("ETCDCTL_", 0) == 0) command += " -u " + name;
    }
    command += " ETCDCTL_API=3 etcdctl --endpoints=" + endpoint_ + " --dial-timeout=3s --command-timeout=10s";
    if (!user_.empty()) command += " --user=" + shell_quote(user_);
    command += " " + args + " 2>&1";
    if (!input.empty()) command = "printf %s " + shell_quote(input) + " | " + command;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
    std::string output;
    char buffer[4096];
    while (std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
    const int status = ::pclose(pipe);
    if (status != 0) throw std::runtime_error(command + " failed: " + output);
    return output;
  }

  void put(const std::string& key, const std::string& value) const {
    run("put " + shell_quote(key) + " " + shell_quote(value));
  }
  void del(const std::string& key) const { run("del " + shell_quote(key)); }
  void del_prefix(const std::string& prefix) const { run("del --prefix " + shell_quote(prefix)); }

  std::int64_t revision() const {
    const std::string output = run("get intake-no-such-key -w json");
    simdjson::dom::parser parser;
    return parser.parse(output)["header"]["revision"].get_int64().value();
  }
  // Compacts the history up to `revision`; a revision already compacted is fine.
  void compact(std::int64_t revision) const {
    try {
      run("compact " + std::to_string(revision));
    } catch (const std::runtime_error& error) {
      if (std::string(error.what()).find("has been compacted") == std::string::npos) throw;
    }
  }

 private:
  std::string endpoint_;
  std::string user_;
};

// A TCP relay in front of etcd that the test steers: it can hold back new watch requests (the
// watch falls behind) and cut or refuse connections (etcd unreachable). It also keeps what
// etcd answered on watch connections.
class EtcdRelay {
 public:
  explicit EtcdRelay(std::uint16_t etcd_port) : etcd_port_(etcd_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error("relay: cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~EtcdRelay() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    cut();
    for (auto& thread : connections_) thread.join();
    ::close(listener_);
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void hold_watches(bool hold) {
    std::lock_guard lock(mutex_);
    hold_ = hold;
    changed_.notify_all();
  }
  void refuse(bool refuse) {
    std::lock_guard lock(mutex_);
    refusing_ = refuse;
  }
  // Drops every connection, held ones included.
  void cut() {
    std::lock_guard lock(mutex_);
    for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    ++generation_;
    changed_.notify_all();
  }
  std::size_t held() const {
    std::lock_guard lock(mutex_);
    return held_;
  }
  bool watch_answered(std::string_view text) const {
    std::lock_guard lock(mutex_);
    return watch_answers_.find(text) != std::string::npos;
  }
  // How many requests so far started with `request_line_start` (e.g. "POST /v3/kv/range").
  std::size_t requests(std::string_view request_line_start) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(first_lines_.begin(), first_lines_.end(),
                      [&](const std::string& line) { return line.starts_with(request_line_start); }));
  }

 private:
  void accept_loop() {
    for (;;) {
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      std::lock_guard lock(mutex_);
      if (stopping_ || refusing_) {
        ::close(client);
        if (stopping_) return;
        continue;
      }
      open_.insert(client);
      connections_.emplace_back([this, client] { relay(client); });
    }
  }

  void relay(int client) {
    char first[16 * 1024];
    const ssize_t got = ::recv(client, first, sizeof first, 0);
    const std::string_view request(first, got > 0 ? static_cast<std::size_t>(got) : 0);
    const bool watch = request.starts_with("POST /v3/watch");
    int upstream = -1;
    bool go_on = got > 0;
    {
      std::unique_lock lock(mutex_);
      if (go_on) first_lines_.emplace_back(request.substr(0, request.find("\r\n")));
      if (go_on && watch && hold_) {
        ++held_;
        const auto generation = generation_;
        changed_.wait(lock, [&] { return !hold_ || generation_ != generation || stopping_; });
        --held_;
        go_on = generation_ == generation && !stopping_;
      }
    }
    if (go_on) {
      upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(etcd_port_);
      go_on = ::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
              send_all(upstream, first, static_cast<std::size_t>(got));
      std::lock_guard lock(mutex_);
      open_.insert(upstream);
    }
    if (go_on) {
      std::thread back([&] { pump(upstream, client, watch); });
      pump(client, upstream, false);
      back.join();
    }
    std::lock_guard lock(mutex_);
    for (int fd : {client, upstream}) {
      if (fd < 0) continue;
      open_.erase(fd);
      ::close(fd);
    }
  }

  void pump(int from, int to, bool record) {
    char buffer[16 * 1024];
    for (;;) {
      const ssize_t got = ::recv(from, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      if (record) {
        std::lock_guard lock(mutex_);
        watch_answers_.append(buffer, static_cast<std::size_t>(got));
      }
      if (!send_all(to, buffer, static_cast<std::size_t>(got))) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
  }

  static bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
      if (sent <= 0) return false;
      data += sent;
      size -= static_cast<std::size_t>(sent);
    }
    return true;
  }

  const std::uint16_t etcd_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::thread> connections_;
  std::set<int> open_;
  bool stopping_ = false, refusing_ = false, hold_ = false;
  std::uint64_t generation_ = 0;
  std::size_t held_ = 0;
  std::string watch_answers_;
  std::vector<std::string> first_lines_;
};

sources::EtcdOptions settings_for(const std::string& endpoint, const std::string& prefix) {
  sources::EtcdOptions settings;
  settings.address = endpoint;
  settings.prefix = prefix;
  return settings;
}

class EtcdSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint = testing::required_env("INTAKE_ETCD_ENDPOINT");
    ctl = std::make_unique<Etcdctl>(endpoint);
    prefix = testing::unique_name("it-etcd") + "/";
  }
  void TearDown() override {
    runner.reset();
    source.reset();
    try {
      ctl->del_prefix(prefix);
    } catch (const std::exception&) {
    }
  }

  void start(sources::EtcdOptions settings) {
    source = std::make_unique<sources::EtcdSource>(std::move(settings));
    runner = std::make_unique<testing::SourceRunner>(*source);
  }
  void start() { start(settings_for(endpoint, prefix)); }
  testing::RecordingCallbacks& callbacks() { return runner->callbacks(); }

  bool converges_to(const Entries& expected) {
    return eventually([&] { return callbacks().tree_count() > 0 && callbacks().last_entries() == expected; });
  }

  std::string endpoint;
  std::unique_ptr<Etcdctl> ctl;
  std::string prefix;
  std::unique_ptr<sources::EtcdSource> source;
  std::unique_ptr<testing::SourceRunner> runner;
};

TEST_F(EtcdSourceTest, ReportsThePrefixAndFollowsPutsChangesAndDeletes) {
  const std::string key_a = testing::key_json("secret-a", {"events.*"});
  ctl->put(prefix + "keys/a", key_a);
  ctl->put(prefix + "settings", R"({"default_mode":"async"})");
  ctl->put(prefix.substr(0, prefix.size() - 1) + "-sibling/keys/x", "not ours");
  start();
  ASSERT_TRUE(converges_to({{"keys/a", key_a}, {"settings", R"({"default_mode":"async"})"}}));
  const auto first = *callbacks().last_tree();
  EXPECT_EQ(first.source, "etcd");
  EXPECT_EQ(first.prefix, prefix);
  EXPECT_GT(std::stoll(first.revision), 0);

  const std::string key_b = testing::key_json("secret-b", {"logs.*"});
  ctl->put(prefix + "keys/b", key_b);
  ASSERT_TRUE(converges_to({{"keys/a", key_a}, {"keys/b", key_b}, {"settings", R"({"default_mode":"async"})"}}));
  ctl->put(prefix + "keys/a", key_b + " ");
  ctl->del(prefix + "settings");
  ctl->put(prefix + "brokers/kafka-1:9092", "");
  ASSERT_TRUE(converges_to({{"keys/a", key_b + " "}, {"keys/b", key_b}, {"brokers/kafka-1:9092", ""}}));
  EXPECT_GT(std::stoll(callbacks().last_tree()->revision), std::stoll(first.revision));
  EXPECT_TRUE(callbacks().errors().empty()) << callbacks().errors().front();
  const auto stats = source->stats();
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_GE(stats.requests, 2u);  // one range read and one watch
  EXPECT_EQ(stats.snapshots, callbacks().tree_count());
  EXPECT_EQ(stats.revision, callbacks().last_tree()->revision);
  ctl->del(prefix.substr(0, prefix.size() - 1) + "-sibling/keys/x");
}

TEST_F(EtcdSourceTest, DeletingTheWholePrefixReportsAnEmptyTreeAndRecreatingWorks) {
  ctl->put(prefix + "keys/a", "1");
  ctl->put(prefix + "keys/b", "2");
  start();
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}}));
  ctl->del_prefix(prefix);
  ASSERT_TRUE(converges_to({}));
  ctl->put(prefix + "keys/c", "3");
  ASSERT_TRUE(converges_to({{"keys/c", "3"}}));
}

TEST_F(EtcdSourceTest, AnEmptyPrefixIsAnEmptyTreeNotAnError) {
  start();
  ASSERT_TRUE(eventually([&] { return callbacks().tree_count() == 1; }));
  EXPECT_TRUE(callbacks().last_entries().empty());
  EXPECT_TRUE(callbacks().errors().empty());
}

TEST_F(EtcdSourceTest, ATransactionArrivesAsOneSnapshot) {
  ctl->put(prefix + "keys/old", "x");
  start();
  ASSERT_TRUE(converges_to({{"keys/old", "x"}}));
  // etcdctl txn reads three sections, each ended by a blank line: compares, success, failure.
  ctl->run("txn", "\nput " + prefix + "keys/a 1\nput " + prefix + "keys/b 2\ndel " + prefix + "keys/old\n\n\n");
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}}));
  for (const auto& tree : callbacks().trees()) {
    const bool before = tree.entries == Entries{{"keys/old", "x"}};
    const bool after = tree.entries == Entries{{"keys/a", "1"}, {"keys/b", "2"}};
    EXPECT_TRUE(before || after) << "a torn transaction at revision " << tree.revision;
  }
}

TEST_F(EtcdSourceTest, PagedRangeReadsFormOneSnapshot) {
  Entries expected;
  for (int i = 0; i < 7; ++i) {
    const std::string key = "keys/k" + std::to_string(i);
    ctl->put(prefix + key, std::to_string(i));
    expected[key] = std::to_string(i);
  }
  auto settings = settings_for(endpoint, prefix);
  settings.page_keys = 3;
  start(settings);
  ASSERT_TRUE(converges_to(expected));
  EXPECT_EQ(callbacks().trees().front().entries, expected);
  EXPECT_GE(source->stats().requests, 4u);  // three pages and the watch
}

// The watch is created late (the relay holds it back) while keys change and the history up to
// now is compacted: etcd cancels the watch with compact_revision, and the source reads the
// prefix again and converges, without calling it an error.
TEST_F(EtcdSourceTest, ConvergesWhenTheWatchFellBehindACompaction) {
  ctl->put(prefix + "keys/a", "1");
  EtcdRelay relay(testing::parse_host_port(endpoint).second);
  relay.hold_watches(true);
  start(settings_for(relay.endpoint(), prefix));
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  ASSERT_TRUE(eventually([&] { return relay.held() == 1; }));
  ctl->put(prefix + "keys/b", "2");
  ctl->del(prefix + "keys/a");
  ctl->compact(ctl->revision());
  relay.hold_watches(false);
  ASSERT_TRUE(converges_to({{"keys/b", "2"}}));
  EXPECT_TRUE(relay.watch_answered("\"compact_revision\"")) << "the watch was not cancelled by the compaction";
  EXPECT_TRUE(callbacks().errors().empty()) << callbacks().errors().front();
  ctl->put(prefix + "keys/c", "3");
  ASSERT_TRUE(converges_to({{"keys/b", "2"}, {"keys/c", "3"}}));
}

TEST_F(EtcdSourceTest, BacksOffWhileEtcdIsUnreachableAndConvergesAfterwards) {
  ctl->put(prefix + "keys/a", "1");
  EtcdRelay relay(testing::parse_host_port(endpoint).second);
  start(settings_for(relay.endpoint(), prefix));
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  relay.refuse(true);
  relay.cut();
  ctl->put(prefix + "keys/b", "2");
  ctl->del(prefix + "keys/a");
  ASSERT_TRUE(eventually([&] { return callbacks().error_count() >= 2; }));
  std::this_thread::sleep_for(500ms);
  const auto failures = source->stats().errors;
  EXPECT_LE(failures, 6u) << "no backoff?";
  EXPECT_NE(callbacks().errors().front().find("retrying in"), std::string::npos) << callbacks().errors().front();
  EXPECT_EQ(callbacks().last_entries(), (Entries{{"keys/a", "1"}}));
  relay.refuse(false);
  ASSERT_TRUE(converges_to({{"keys/b", "2"}}));
}

TEST_F(EtcdSourceTest, StoppingTheContextAbandonsTheWatchAtOnce) {
  start();
  ASSERT_TRUE(eventually([&] { return callbacks().tree_count() == 1; }));
  const auto started = std::chrono::steady_clock::now();
  runner->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

// ---- Authentication, against a private etcd (auth changes would disturb the shared one) ----

// An etcd of this test's own, started and stopped through scripts/peers/etcd.sh with its own
// run folder and ports.
class PrivateEtcd {
 public:
  PrivateEtcd() {
    std::string pattern = (std::filesystem::temp_directory_path() / "intake-etcd-auth-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    run_dir_ = pattern;
    port_ = testing::free_port();
    peer_port_ = testing::free_port();
    if (script("start") != 0) {
      throw std::runtime_error("private etcd did not start; see " + run_dir_ + "/script.log");
    }
  }
  ~PrivateEtcd() {
    script("stop");
    std::error_code ignored;
    std::filesystem::remove_all(run_dir_, ignored);
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int script(const std::string& command) const {
    const std::string line = "INTAKE_RUN=" + shell_quote(run_dir_) + " ETCD_PORT=" + std::to_string(port_) +
                             " ETCD_PEER_PORT=" + std::to_string(peer_port_) +
                             " bash " INTAKE_SOURCE_DIR "/scripts/peers/etcd.sh " + command + " >>" +
                             shell_quote(run_dir_ + "/script.log") + " 2>&1";
    return std::system(line.c_str());
  }

  std::string run_dir_;
  std::uint16_t port_ = 0;
  std::uint16_t peer_port_ = 0;
};

TEST(EtcdSourceAuth, AuthenticatesAndRenewsATokenEtcdNoLongerAccepts) {
  PrivateEtcd etcd;
  const Etcdctl admin(etcd.endpoint());
  admin.run("user add root:root-pw");
  admin.run("user add intake:intake-pw");
  admin.run("role add intake-reader");
  admin.run("role grant-permission intake-reader read --prefix=true intake/");
  admin.run("user grant-role intake intake-reader");
  admin.run("auth enable");
  const Etcdctl root(etcd.endpoint(), "root:root-pw");
  root.put("intake/keys/a", "1");

  EtcdRelay relay(testing::parse_host_port(etcd.endpoint()).second);
  auto settings = settings_for(relay.endpoint(), "intake/");
  settings.username = "intake";
  settings.password = "intake-pw";
  sources::EtcdSource source(settings);
  testing::SourceRunner runner(source);
  auto& callbacks = runner.callbacks();
  const auto converges_to = [&](const Entries& expected) {
    return eventually([&] { return callbacks.tree_count() > 0 && callbacks.last_entries() == expected; });
  };
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  EXPECT_EQ(relay.requests("POST /v3/auth/authenticate"), 1u);

  // Turning auth off and on again drops every token etcd handed out; the open watch goes on.
  root.run("auth disable");
  admin.run("auth enable");
  root.put("intake/keys/b", "2");
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}}));
  // The next range read presents the stale token, gets 401 and authenticates again.
  relay.cut();
  root.put("intake/keys/c", "3");
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}, {"keys/c", "3"}}));
  EXPECT_EQ(relay.requests("POST /v3/auth/authenticate"), 2u);
  for (const auto& error : callbacks.errors()) {
    EXPECT_EQ(error.find("401"), std::string::npos) << error;
    EXPECT_EQ(error.find("authenticat"), std::string::npos) << error;
  }

  // Wrong credentials: an error naming the user, and no tree.
  settings.password = "wrong";
  sources::EtcdSource refused(settings);
  testing::SourceRunner refused_runner(refused);
  ASSERT_TRUE(eventually([&] { return refused_runner.callbacks().error_count() > 0; }));
  EXPECT_NE(refused_runner.callbacks().errors().front().find("authenticating as 'intake'"), std::string::npos)
      << refused_runner.callbacks().errors().front();
  EXPECT_EQ(refused_runner.callbacks().tree_count(), 0u);
}

}  // namespace
}  // namespace intake
