#include "gateway_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "http_client.h"

namespace intake::testing {

GatewayProcess::GatewayProcess(const std::string& config_yaml, std::uint16_t port, rlim_t max_file_bytes,
                               const std::vector<std::string>& extra_args,
                               std::function<bool(std::uint16_t port)> healthy)
    : port_(port) {
  char config_template[] = "/tmp/intake-test-XXXXXX.yaml";
  const int config_fd = ::mkstemps(config_template, 5);
  if (config_fd < 0) throw std::runtime_error("cannot create a temp config file");
  ::close(config_fd);
  config_path_ = config_template;
  log_path_ = config_path_ + ".log";
  std::ofstream(config_path_) << config_yaml;

  std::vector<std::string> args = {INTAKE_BINARY, "run", "--config", config_path_};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (max_file_bytes > 0) {
      const rlimit limit{max_file_bytes, max_file_bytes};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ::execv(INTAKE_BINARY, argv.data());
    std::perror("exec " INTAKE_BINARY);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("intake exited during start-up:\n" + log_tail());
    }
    try {
      if (healthy ? healthy(port_) : http_request("127.0.0.1", port_, "GET", "/healthz").status == 200) return;
    } catch (const std::runtime_error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("intake did not answer /healthz within 20 s:\n" + log_tail());
}

GatewayProcess::~GatewayProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::remove(config_path_.c_str());
  // A sanitizer that does not stop the process (ThreadSanitizer's default) only leaves its
  // report in the log: every test that ran a gateway fails on one.
  const std::string report = sanitizer_report();
  if (!report.empty()) ADD_FAILURE() << "the gateway's log holds a sanitizer report:\n" << report;
}

std::string GatewayProcess::sanitizer_report() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error: "}) {
    const auto at = all.find(marker);
    if (at != std::string::npos) return all.substr(at, 6000);
  }
  return {};
}

void GatewayProcess::send_signal(int signal) {
  if (pid_ > 0) ::kill(pid_, signal);
}

int GatewayProcess::stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return -1;
  send_signal(signal);
  return wait_exit(timeout_ms);
}

int GatewayProcess::wait_exit(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

std::string GatewayProcess::log_tail(std::size_t bytes) const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

}  // namespace intake::testing
