// ConsulAgent: a private Consul dev agent ($INTAKE_CONSUL_BIN agent -dev) on free loopback
// ports, for tests that must stop and restart Consul without touching the shared one. A dev
// agent keeps everything in memory: after stop() and start() it knows no service and no key.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace intake::testing {

class ConsulAgent {
 public:
  // Picks free ports and starts the agent (see start()). Throws std::runtime_error.
  ConsulAgent();
  ~ConsulAgent();  // SIGKILL if still running; removes its log directory
  ConsulAgent(const ConsulAgent&) = delete;
  ConsulAgent& operator=(const ConsulAgent&) = delete;

  // "http://127.0.0.1:<http port>"
  std::string address() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  std::uint16_t http_port() const { return http_port_; }

  // Starts the agent on the same ports as before and waits until it has a leader (at most
  // 30 s). Throws std::runtime_error with the log's tail if it does not. No-op if running.
  void start();
  // SIGTERM, then waits for the agent to exit (SIGKILL after 15 s).
  void stop();
  bool running() const { return pid_ > 0; }
  std::string log_tail(std::size_t bytes = 3000) const;

 private:
  bool has_leader() const;

  std::string binary_;
  std::string dir_;
  std::uint16_t http_port_ = 0, server_port_ = 0, serf_lan_port_ = 0, serf_wan_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace intake::testing
