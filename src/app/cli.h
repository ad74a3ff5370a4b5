// The subcommands of the `intake` command line other than `run` (app/main.cc parses the
// command line and serves). Each returns the process's exit code.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/env_overrides.h"

namespace intake::app {

// Exit codes of `intake check-config` (also in --help and docs/configuration.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadRegistryKeys = 1;  // --source: the registry holds entries the gateway would reject
inline constexpr int kExitBadConfig = 2;        // the file or an override is invalid; or a usage error
inline constexpr int kExitRegistryUnreadable = 3;

struct CheckConfigOptions {
  std::string config_path;
  bool source = false;  // also read the registry the file names, once, and judge every entry
  bool print = false;   // print the file's YAML after environment overrides, secrets redacted
  std::chrono::milliseconds source_timeout{10'000};
};

// `intake check-config`: the report goes to `out`, what stops the check to `err`.
int check_config(const CheckConfigOptions& options, const std::vector<config::EnvOverride>& overrides,
                 std::ostream& out, std::ostream& err);

// `intake version` and `intake --version`: version, git revision, librdkafka, compiler, build.
std::string version_text();

// The end of `intake --help`: examples, the environment override rule, exit codes.
std::string help_footer();
// The end of `intake check-config --help`: its exit codes.
std::string check_config_footer();

}  // namespace intake::app
