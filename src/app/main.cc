// intake: the command line. `intake run --config FILE` serves; `intake hash-key SECRET` prints
// the digest to store in a config; `intake check-config --config FILE [--source]` validates and
// exits (app/cli.h); `intake version` says what was built. Settings may be overridden from the
// environment (config/env_overrides.h), for `run` and `check-config` alike.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "app/cli.h"
#include "app/gateway.h"
#include "app/systemd_notify.h"
#include "config/static_config.h"
#include "crypto/digest.h"
#include "logging/structured.h"

namespace {

// Blocks SIGINT/SIGTERM in this thread and every thread started after, so that only the main
// thread's sigwait sees them.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The log format and level come from the YAML (logging:), the level from --log-level when
// given; until then spdlog's defaults write start-up errors.
void set_up_logging(const intake::logging::LogOptions& options, const std::string& cli_level) {
  const auto level = intake::logging::parse_level(cli_level.empty() ? options.level : cli_level);
  intake::logging::configure(options.format, level.value_or(spdlog::level::info));
}

int run(const std::string& config_path, const std::string& cli_level) {
  const sigset_t signals = block_shutdown_signals();
  // A file-size limit (RLIMIT_FSIZE) must not kill the gateway with SIGXFSZ: ignored, a spool
  // write past it fails with EFBIG and the client is told (500 spool_write_failed).
  std::signal(SIGXFSZ, SIG_IGN);
  std::unique_ptr<intake::app::Gateway> gateway;
  // Type=notify under systemd (packaging/systemd/intake.service); silent without NOTIFY_SOCKET.
  auto notifier = intake::app::SystemdNotifier::from_environment();
  int signal_number = 0;
  try {
    auto file = intake::config::load_static_config(config_path, intake::config::env_overrides(environ));
    set_up_logging(file.logging, cli_level);
    gateway = std::make_unique<intake::app::Gateway>(std::move(file));
    gateway->start_config_sources();
    // With `on_unreachable_at_start: wait`, serve only once the registry's config is in force.
    const timespec poll_interval{0, 100'000'000};
    bool logged = false;
    while (!gateway->ready_to_serve()) {
      if (!logged) {
        spdlog::info("intake: waiting for the registry's config before serving");
        notifier.notify("STATUS=waiting for the registry's config");
      }
      logged = true;
      if (sigtimedwait(&signals, nullptr, &poll_interval) > 0) {
        spdlog::info("intake: stopped while waiting for the registry");
        notifier.notify("STOPPING=1\nSTATUS=stopping before serving");
        gateway->shutdown();
        return 0;
      }
    }
    gateway->start_serving();
    notifier.notify("READY=1\nSTATUS=serving on port " + std::to_string(gateway->port()));
    // Pings only while every event loop turns within a quarter of the interval (at most 1 s).
    const auto probe_timeout =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(notifier.watchdog_interval() / 4),
                   std::chrono::milliseconds(10), std::chrono::milliseconds(1'000));
    notifier.start_watchdog([&gateway, probe_timeout] { return gateway->event_loops_turn(probe_timeout); });
  } catch (const std::exception& e) {
    spdlog::critical("intake: cannot start: {}", e.what());
    return 2;
  }
  sigwait(&signals, &signal_number);
  spdlog::info("intake: {} received, draining", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  notifier.notify("STOPPING=1\nSTATUS=draining");
  // Before the drain stops the loops it probes; systemd does not watch a stopping service.
  notifier.stop_watchdog();
  const auto undelivered = gateway->shutdown();
  return undelivered == 0 ? 0 : 1;
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App cli{"Intake: HTTP to Kafka collection gateway", "intake"};
  cli.require_subcommand(0, 1);
  cli.option_defaults()->always_capture_default();
  cli.footer(intake::app::help_footer());
  cli.set_version_flag(
      "--version", [] { return intake::app::version_text(); }, "Print the version and exit");

  std::string config_path;
  std::string log_level;  // empty: the YAML's logging.level
  auto* run_command = cli.add_subcommand("run", "Serve HTTP and produce records to Kafka");
  run_command->add_option("-c,--config", config_path, "YAML configuration file")->required();
  run_command
      ->add_option("--log-level", log_level,
                   "trace, debug, info, warn, error, critical, off; overrides logging.level (default info); "
                   "changed at run time with PUT /admin/log-level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  intake::app::CheckConfigOptions check;
  std::uint32_t source_timeout_ms = 10'000;
  auto* check_command = cli.add_subcommand(
      "check-config", "Validate a YAML configuration file (and with --source the registry's keys) and exit");
  check_command->add_option("-c,--config", check.config_path, "YAML configuration file")->required();
  check_command->add_flag("--source", check.source,
                          "Also read the registry tree the file names, once, and report every bad key");
  check_command->add_flag("--print", check.print, "Print the YAML after environment overrides, secrets redacted");
  check_command->add_option("--timeout-ms", source_timeout_ms, "How long --source waits for the registry")
      ->check(CLI::Range(100u, 600'000u));

  std::string secret;
  auto* hash_command = cli.add_subcommand("hash-key", "Print the secret_sha256 to store for an API key");
  hash_command->add_option("secret", secret, "the API key's secret")->required();

  auto* version_command =
      cli.add_subcommand("version", "Print the version, git revision, librdkafka version, compiler and build type");
  // The examples and the override rule end `intake --help`; a subcommand's help says its own.
  for (auto* command : {run_command, hash_command, version_command}) command->footer("");
  check_command->footer(intake::app::check_config_footer());

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a usage error exits 2, as an invalid config does.
    return cli.exit(e) == 0 ? 0 : intake::app::kExitBadConfig;
  }
  if (cli.get_subcommands().empty()) {
    std::cerr << cli.help();
    return intake::app::kExitBadConfig;
  }

  if (*version_command) {
    std::cout << intake::app::version_text() << "\n";
    return 0;
  }
  if (*hash_command) {
    std::cout << intake::crypto::to_hex(intake::crypto::sha256(secret)) << "\n";
    return 0;
  }
  if (*check_command) {
    // Only problems go to the log; the report is the command's output.
    spdlog::set_level(spdlog::level::warn);
    check.source_timeout = std::chrono::milliseconds(source_timeout_ms);
    return intake::app::check_config(check, intake::config::env_overrides(environ), std::cout, std::cerr);
  }
  return run(config_path, log_level);
}

int main(int argc, char** argv) {
  // Start-up errors are exceptions (run() reports its own); anything else that escapes is a bug,
  // still reported as a message and exit 1 rather than std::terminate.
  try {
    return cli_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "intake: " << e.what() << "\n";
    return 1;
  }
}
