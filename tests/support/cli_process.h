// Runs the real `intake` binary for one command (check-config, version, ...) and collects what
// it printed and how it exited.
#pragma once

#include <string>
#include <vector>

namespace intake::testing {

struct CliOutcome {
  int exit_code = -1;  // -1: killed by a signal, or still running after the timeout (then killed)
  std::string output;  // stdout and stderr, interleaved as written
};

// Runs INTAKE_BINARY with `args`, in this process's environment plus `environment` ("NAME=value"
// entries, which win), and waits up to `timeout_ms` for it to exit.
CliOutcome run_intake(const std::vector<std::string>& args, const std::vector<std::string>& environment = {},
                      int timeout_ms = 60'000);

}  // namespace intake::testing
