#include "consul_agent.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http_client.h"
#include "peers.h"

namespace intake::testing {

ConsulAgent::ConsulAgent() : binary_(required_env("INTAKE_CONSUL_BIN")) {
  std::string pattern = (std::filesystem::temp_directory_path() / "intake-consul-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a directory for the agent");
  dir_ = pattern;
  // Four distinct free ports (free_port() may hand out one twice in a row).
  std::vector<std::uint16_t> ports;
  while (ports.size() < 4) {
    const auto port = free_port();
    bool seen = false;
    for (const auto known : ports) seen = seen || known == port;
    if (!seen) ports.push_back(port);
  }
  http_port_ = ports[0];
  server_port_ = ports[1];
  serf_lan_port_ = ports[2];
  serf_wan_port_ = ports[3];
  start();
}

ConsulAgent::~ConsulAgent() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool ConsulAgent::has_leader() const {
  try {
    const auto reply = http_request("127.0.0.1", http_port_, "GET", "/v1/status/leader");
    return reply.status == 200 && reply.body.size() > 2;  // "\"127.0.0.1:port\"", not "\"\""
  } catch (const std::runtime_error&) {
    return false;
  }
}

void ConsulAgent::start() {
  if (pid_ > 0) return;
  // No -data-dir: with one, the agent would persist the services registered with it and
  // restore them on restart, and a restarted agent is to know nothing.
  std::vector<std::string> args = {binary_,
                                   "agent",
                                   "-dev",
                                   "-node",
                                   "intake-test-agent",
                                   "-bind",
                                   "127.0.0.1",
                                   "-client",
                                   "127.0.0.1",
                                   "-http-port",
                                   std::to_string(http_port_),
                                   "-dns-port",
                                   "-1",
                                   "-grpc-port",
                                   "-1",
                                   "-grpc-tls-port",
                                   "-1",
                                   "-server-port",
                                   std::to_string(server_port_),
                                   "-serf-lan-port",
                                   std::to_string(serf_lan_port_),
                                   "-serf-wan-port",
                                   std::to_string(serf_wan_port_),
                                   "-hcl",
                                   "disable_update_check = true",
                                   "-hcl",
                                   "disable_anonymous_signature = true"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log_path = dir_ + "/consul.log";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    std::perror("exec consul");
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the Consul agent exited during start-up:\n" + log_tail());
    }
    if (has_leader()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("the Consul agent has no leader after 30 s:\n" + log_tail());
}

void ConsulAgent::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string ConsulAgent::log_tail(std::size_t bytes) const {
  std::ifstream file(dir_ + "/consul.log");
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace intake::testing
