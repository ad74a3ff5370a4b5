// `intake run` under a service manager's notify protocol (app/systemd_notify.h), as
// packaging/systemd/intake.service runs it (Type=notify): the test binds the datagram socket
// systemd would, hands its path to the real binary in NOTIFY_SOCKET, and reads what comes.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "crypto/digest.h"
#include "eventually.h"
#include "gateway_process.h"
#include "http_client.h"
#include "peers.h"
#include "temp_dir.h"

namespace intake {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
      throw std::runtime_error("bind " + path + ": " + std::strerror(errno));
    }
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Datagrams until one holds `line` as a whole line; returns it, or nullopt if none came
  // within `timeout` (a bound on the test, not a latency assertion).
  std::optional<std::string> await_line(const std::string& line,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, 100) != 1) continue;
      char buffer[4096];
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got <= 0) continue;
      const std::string message(buffer, static_cast<std::size_t>(got));
      if (("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos) return message;
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
};

// NOTIFY_SOCKET for the gateway the scope starts: the child inherits the environment at fork.
class ScopedNotifySocketEnv {
 public:
  // With WATCHDOG_USEC (and no WATCHDOG_PID, which would name this process) the gateway pings.
  explicit ScopedNotifySocketEnv(const std::string& path) {
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "400000", 1);
    ::unsetenv("WATCHDOG_PID");
  }
  ~ScopedNotifySocketEnv() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
  }
  ScopedNotifySocketEnv(const ScopedNotifySocketEnv&) = delete;
  ScopedNotifySocketEnv& operator=(const ScopedNotifySocketEnv&) = delete;
};

TEST(SystemdNotify, ReadyOnceServingWatchdogPingsAndStoppingWhenSigtermStartsTheDrain) {
  const std::string bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
  const testing::TempDir dir("intake-notify");
  const std::string socket_path = dir.path() + "/notify.sock";
  const NotifySocket socket(socket_path);
  const std::uint16_t port = testing::free_port();
  const std::string config = "server: {listen: \"127.0.0.1:" + std::to_string(port) + "\", threads: 1}\n" +
                             "kafka: {bootstrap_servers: \"" + bootstrap + "\"}\n" +
                             "keys:\n  notify: {secret_sha256: " + crypto::to_hex(crypto::sha256("notify-secret")) +
                             ", topics: [\"it.*\"]}\n";
  std::optional<testing::GatewayProcess> gateway;
  {
    const ScopedNotifySocketEnv env(socket_path);
    gateway.emplace(config, port);
  }

  const auto ready = socket.await_line("READY=1");
  ASSERT_TRUE(ready.has_value()) << gateway->log_tail();
  EXPECT_NE(ready->find("STATUS=serving on port " + std::to_string(port)), std::string::npos) << *ready;
  // READY=1 is sent after the listeners are bound: the readiness probe answers by then (200
  // once Kafka is reachable, which the load balancer, not systemd, waits for).
  const auto probe = testing::try_request("127.0.0.1", port, testing::build_request("GET", "/readyz", "", {}));
  EXPECT_EQ(probe.fate, testing::RequestFate::kAnswered);
  EXPECT_TRUE(
      testing::eventually([&] { return testing::http_request("127.0.0.1", port, "GET", "/readyz").status == 200; },
                          std::chrono::seconds(30)))
      << gateway->log_tail();

  // The watchdog pings while the event loops turn (every 200 ms: half of WATCHDOG_USEC).
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(socket.await_line("WATCHDOG=1").has_value()) << "ping " << i << "\n" << gateway->log_tail();
  }

  gateway->send_signal(SIGTERM);
  const auto stopping = socket.await_line("STOPPING=1");
  ASSERT_TRUE(stopping.has_value()) << gateway->log_tail();
  EXPECT_EQ(gateway->wait_exit(), 0) << gateway->log_tail();
}

}  // namespace
}  // namespace intake
