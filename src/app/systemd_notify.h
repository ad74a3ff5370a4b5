// SystemdNotifier: tells a service manager what state the gateway is in, with the sd_notify
// protocol and without libsystemd: each message is one datagram of "KEY=VALUE" lines sent to
// the unix socket that $NOTIFY_SOCKET names (a name starting with '@' is in Linux's abstract
// namespace). With NOTIFY_SOCKET unset (not under systemd, or not Type=notify) every call does
// nothing and sends nothing. Used by `intake run` (app/main.cc): READY=1 once serving,
// STOPPING=1 when the drain starts, WATCHDOG=1 pings while WATCHDOG_USEC asks for them
// (packaging/systemd/intake.service, docs/operations.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace intake::app {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once. The watchdog interval is half
  // of WATCHDOG_USEC, and zero (no pings) when it is unset, not a number, or WATCHDOG_PID
  // names another process.
  static SystemdNotifier from_environment();  // returned as a prvalue: never copied or moved

  // `socket_path` empty = disabled. `watchdog_interval` zero = no watchdog pings.
  explicit SystemdNotifier(std::string socket_path, std::chrono::microseconds watchdog_interval = {});
  ~SystemdNotifier();  // stops the watchdog thread
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  bool enabled() const { return !socket_path_.empty(); }
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

  // Sends `message` (e.g. "READY=1\nSTATUS=serving") as one datagram. Returns true iff it was
  // sent; false when disabled or the socket refused it (never throws, never blocks: a service
  // manager that is gone must not stop the gateway).
  bool notify(std::string_view message) const;

  // Starts a thread that sends WATCHDOG=1 every watchdog_interval(), each time only if
  // `alive` (empty = always) says the gateway still works; does nothing without an interval,
  // when disabled, or when already started. `alive` runs on the watchdog thread and should
  // return within a fraction of the interval. REQUIRES: the caller has blocked the
  // signals it waits for, so that the thread does not take them.
  void start_watchdog(std::function<bool()> alive = {});
  // Stops the watchdog thread; returns as soon as the thread has seen the request (at once,
  // not after the current interval). Safe to call when none runs.
  void stop_watchdog();

 private:
  void watchdog_loop();

  std::string socket_path_;
  std::chrono::microseconds watchdog_interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_requested_ = false;
  std::function<bool()> alive_;  // set before the thread starts, read only by it
  std::thread watchdog_;
};

}  // namespace intake::app
