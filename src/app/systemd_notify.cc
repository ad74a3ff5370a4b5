#include "app/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace intake::app {

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The whole text as a decimal number; 0 for anything else (empty, signs, trailing bytes).
unsigned long long parse_decimal(const std::string& text) {
  unsigned long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return 0;
  return value;
}

}  // namespace

SystemdNotifier SystemdNotifier::from_environment() {
  std::string socket_path = env_or_empty("NOTIFY_SOCKET");
  std::chrono::microseconds interval{0};
  const unsigned long long watchdog_usec = parse_decimal(env_or_empty("WATCHDOG_USEC"));
  const std::string watchdog_pid = env_or_empty("WATCHDOG_PID");
  // systemd sets WATCHDOG_PID to the main process; a value inherited by anything else is not ours.
  const bool for_this_process =
      watchdog_pid.empty() || parse_decimal(watchdog_pid) == static_cast<unsigned long long>(::getpid());
  if (watchdog_usec > 0 && for_this_process) interval = std::chrono::microseconds(watchdog_usec / 2);
  return SystemdNotifier(std::move(socket_path), interval);
}

SystemdNotifier::SystemdNotifier(std::string socket_path, std::chrono::microseconds watchdog_interval)
    : socket_path_(std::move(socket_path)), watchdog_interval_(watchdog_interval) {
  // Only absolute paths and abstract names are sockets systemd would give; anything else is
  // ignored rather than sent relative to the working directory.
  if (!socket_path_.empty() && socket_path_.front() != '/' && socket_path_.front() != '@') socket_path_.clear();
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) socket_path_.clear();
}

SystemdNotifier::~SystemdNotifier() { stop_watchdog(); }

bool SystemdNotifier::notify(std::string_view message) const {
  if (!enabled() || message.empty()) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // abstract namespace
  // An abstract name is exactly its bytes (no terminator); a path may count its NUL or not.
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  ssize_t sent = -1;
  do {
    sent =
        ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  ::close(fd);
  return sent == static_cast<ssize_t>(message.size());
}

void SystemdNotifier::start_watchdog(std::function<bool()> alive) {
  if (!enabled() || watchdog_interval_.count() <= 0 || watchdog_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stop_requested_ = false;
  }
  alive_ = std::move(alive);
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

void SystemdNotifier::stop_watchdog() {
  if (!watchdog_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

void SystemdNotifier::watchdog_loop() {
  std::unique_lock lock(mutex_);
  while (!stop_requested_) {
    lock.unlock();
    // A stuck gateway sends nothing: the service manager's WatchdogSec then restarts it.
    if (!alive_ || alive_()) notify("WATCHDOG=1");
    lock.lock();
    wake_.wait_for(lock, watchdog_interval_, [this] { return stop_requested_; });
  }
}

}  // namespace intake::app
