// SystemdNotifier against a real unix datagram socket bound by the test, as systemd binds one.
#include "app/systemd_notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "concurrency/loop_probe.h"
#include "temp_dir.h"

namespace intake::app {
namespace {

// A bound datagram socket: `name` is a path, or '@' + an abstract name.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (name.front() == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
      throw std::runtime_error("bind " + name + ": " + std::strerror(errno));
    }
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The next datagram, or nullopt if none comes within `timeout_ms` (a bound on the test only).
  std::optional<std::string> receive(int timeout_ms = 10'000) const {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, timeout_ms) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(got));
  }

 private:
  int fd_ = -1;
};

// Sets (or unsets, with nullptr) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(SystemdNotifier, DoesNothingWithoutNotifySocket) {
  const ScopedEnv socket("NOTIFY_SOCKET", nullptr);
  const ScopedEnv watchdog("WATCHDOG_USEC", "1000000");
  auto notifier = SystemdNotifier::from_environment();
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
  notifier.start_watchdog();  // no thread, nothing to send to
  notifier.stop_watchdog();
}

TEST(SystemdNotifier, SendsEachMessageAsOneDatagramToAPathSocket) {
  const testing::TempDir dir("intake-notify");
  const std::string path = dir.path() + "/notify.sock";
  const NotifySocket socket(path);
  const ScopedEnv env("NOTIFY_SOCKET", path.c_str());
  const auto notifier = SystemdNotifier::from_environment();
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.notify("READY=1\nSTATUS=serving on port 8080"));
  ASSERT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(socket.receive(), "READY=1\nSTATUS=serving on port 8080");
  EXPECT_EQ(socket.receive(), "STOPPING=1");
}

TEST(SystemdNotifier, SendsToAnAbstractSocketNamedWithAnAt) {
  const std::string name = "@intake-notify-test-" + std::to_string(::getpid());
  const NotifySocket socket(name);
  const SystemdNotifier notifier(name);
  ASSERT_TRUE(notifier.notify("READY=1"));
  EXPECT_EQ(socket.receive(), "READY=1");
}

TEST(SystemdNotifier, ReportsFailureWhenNobodyListens) {
  const testing::TempDir dir("intake-notify");
  const SystemdNotifier notifier(dir.path() + "/nobody.sock");
  EXPECT_TRUE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(SystemdNotifier, IgnoresARelativeSocketName) {
  const SystemdNotifier notifier("relative.sock");
  EXPECT_FALSE(notifier.enabled());
}

TEST(SystemdNotifier, PingsAtHalfTheWatchdogIntervalOnlyForItsOwnPid) {
  const ScopedEnv socket("NOTIFY_SOCKET", "/run/systemd/notify");
  const ScopedEnv watchdog("WATCHDOG_USEC", "30000000");
  {
    const ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid()).c_str());
    EXPECT_EQ(SystemdNotifier::from_environment().watchdog_interval(), std::chrono::seconds(15));
  }
  {
    const ScopedEnv pid("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str());
    EXPECT_EQ(SystemdNotifier::from_environment().watchdog_interval().count(), 0);
  }
  {
    const ScopedEnv pid("WATCHDOG_PID", nullptr);
    const ScopedEnv bad("WATCHDOG_USEC", "30s");
    EXPECT_EQ(SystemdNotifier::from_environment().watchdog_interval().count(), 0);
  }
}

TEST(SystemdNotifier, WatchdogPingsRepeatedly) {
  const testing::TempDir dir("intake-notify");
  const std::string path = dir.path() + "/notify.sock";
  const NotifySocket socket(path);
  SystemdNotifier notifier(path, std::chrono::milliseconds(10));
  notifier.start_watchdog();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(socket.receive(), "WATCHDOG=1") << "ping " << i;
  notifier.stop_watchdog();
}

// With an hour between pings, a stop that waited for the next one would hang the test.
TEST(SystemdNotifier, WatchdogStopsWithoutWaitingForItsInterval) {
  const testing::TempDir dir("intake-notify");
  const std::string path = dir.path() + "/notify.sock";
  const NotifySocket socket(path);
  SystemdNotifier notifier(path, std::chrono::hours(1));
  notifier.start_watchdog();
  EXPECT_EQ(socket.receive(), "WATCHDOG=1");  // the first ping goes at once
  notifier.stop_watchdog();
  EXPECT_EQ(socket.receive(200), std::nullopt);
}

// A gateway whose loops are stuck must stop pinging, so that WatchdogSec restarts it; pings
// come back once the probe passes again.
TEST(SystemdNotifier, WatchdogSkipsPingsWhileTheProbeFails) {
  const testing::TempDir dir("intake-notify");
  const std::string path = dir.path() + "/notify.sock";
  const NotifySocket socket(path);
  SystemdNotifier notifier(path, std::chrono::milliseconds(10));
  std::atomic<bool> alive{false};
  std::atomic<int> probes{0};
  notifier.start_watchdog([&] {
    probes.fetch_add(1);
    return alive.load();
  });
  EXPECT_EQ(socket.receive(300), std::nullopt);
  EXPECT_GT(probes.load(), 1) << "the probe is asked every interval";
  alive = true;
  EXPECT_EQ(socket.receive(), "WATCHDOG=1");
  notifier.stop_watchdog();
}

// The probe itself: a loop busy in a handler does not run the posted no-op in time.
TEST(LoopProbe, AStuckLoopFailsAndTurningLoopsPass) {
  boost::asio::io_context first;
  boost::asio::io_context second;
  auto first_work = boost::asio::make_work_guard(first);
  auto second_work = boost::asio::make_work_guard(second);
  std::thread first_thread([&] { first.run(); });
  std::thread second_thread([&] { second.run(); });
  boost::asio::io_context* loops[] = {&first, &second};
  EXPECT_TRUE(concurrency::loops_turn_within(loops, std::chrono::seconds(10)));

  std::promise<void> release;
  auto released = release.get_future().share();
  boost::asio::post(second, [released] { released.wait(); });  // second is stuck until released
  EXPECT_FALSE(concurrency::loops_turn_within(loops, std::chrono::milliseconds(50)));
  release.set_value();
  EXPECT_TRUE(concurrency::loops_turn_within(loops, std::chrono::seconds(10)));

  first_work.reset();
  second_work.reset();
  first_thread.join();
  second_thread.join();
}

}  // namespace
}  // namespace intake::app
