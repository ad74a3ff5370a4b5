#include "cli_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace intake::testing {

CliOutcome run_intake(const std::vector<std::string>& args, const std::vector<std::string>& environment,
                      int timeout_ms) {
  std::vector<std::string> argv_text = {INTAKE_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = environment;  // putenv keeps the pointer: these outlive exec

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    for (auto& entry : env_text) ::putenv(entry.data());
    ::execv(INTAKE_BINARY, argv.data());
    std::perror("exec " INTAKE_BINARY);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  CliOutcome outcome;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd readable{pipe_fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&readable, 1, static_cast<int>(left)) == 0) {
      ::kill(pid, SIGKILL);
      outcome.output += "\n(killed: still running after " + std::to_string(timeout_ms) + " ms)";
      break;
    }
    const ssize_t got = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (got <= 0) break;
    outcome.output.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && outcome.output.find("(killed: still running") == std::string::npos) {
    outcome.exit_code = WEXITSTATUS(status);
  }
  return outcome;
}

}  // namespace intake::testing
