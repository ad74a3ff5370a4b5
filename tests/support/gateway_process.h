// Runs the real `intake` binary as a child process with a generated config, for integration
// tests: starts it, waits until /healthz answers, and stops it with a signal.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace intake::testing {

class GatewayProcess {
 public:
  // Writes `config_yaml` to a temp file and starts INTAKE_BINARY with it, logging to a file.
  // Throws if /healthz does not answer on `port` within 20 s (the log tail is in the message).
  // `max_file_bytes` > 0: the child's RLIMIT_FSIZE (no file it writes may grow past it), for
  // tests of write failures. `extra_args` go after `run --config FILE` (e.g. --log-level trace).
  // The child inherits this process's other limits, RLIMIT_NOFILE included: a test that needs
  // many connections raises it before starting the gateway.
  // `healthy`: how /healthz is asked (e.g. over TLS); empty = plain HTTP.
  GatewayProcess(const std::string& config_yaml, std::uint16_t port, rlim_t max_file_bytes = 0,
                 const std::vector<std::string>& extra_args = {}, std::function<bool(std::uint16_t port)> healthy = {});
  ~GatewayProcess();  // SIGKILL if still running
  GatewayProcess(const GatewayProcess&) = delete;
  GatewayProcess& operator=(const GatewayProcess&) = delete;

  std::uint16_t port() const { return port_; }
  // The child's process id while it runs (for /proc/<pid>/status), -1 once it exited.
  pid_t pid() const { return pid_; }
  // Sends `signal` and waits up to timeout_ms; returns the exit code, or -1 on timeout.
  int stop(int signal, int timeout_ms = 30'000);
  // The two halves of stop(), for tests that act while the gateway drains.
  void send_signal(int signal);
  int wait_exit(int timeout_ms = 30'000);
  std::string log_tail(std::size_t bytes = 4000) const;
  // The first sanitizer report in the log (ThreadSanitizer, AddressSanitizer, LeakSanitizer,
  // UBSan), or "" if none.
  std::string sanitizer_report() const;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_;
  std::string config_path_;
  std::string log_path_;
};

}  // namespace intake::testing
