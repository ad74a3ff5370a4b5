// intake: the command line. `intake run --config FILE` serves; `intake hash-key SECRET` prints
// the digest to store in a config; `intake check-config --config FILE` validates and exits.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "app/gateway.h"
#include "app/systemd_notify.h"
#include "config/static_config.h"
#include "crypto/digest.h"

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

int run(const std::string& config_path) {
  const sigset_t signals = block_shutdown_signals();
  // A file-size limit (RLIMIT_FSIZE) must not kill the gateway with SIGXFSZ: ignored, a spool
  // write past it fails with EFBIG and the client is told (500 spool_write_failed).
  std::signal(SIGXFSZ, SIG_IGN);
  std::unique_ptr<intake::app::Gateway> gateway;
  // Type=notify under systemd (packaging/systemd/intake.service); silent without NOTIFY_SOCKET.
  auto notifier = intake::app::SystemdNotifier::from_environment();
  int signal_number = 0;
  try {
    gateway = std::make_unique<intake::app::Gateway>(intake::config::load_static_config(config_path));
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
    notifier.start_watchdog();
  } catch (const std::exception& e) {
    spdlog::critical("intake: cannot start: {}", e.what());
    return 2;
  }
  sigwait(&signals, &signal_number);
  spdlog::info("intake: {} received, draining", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  notifier.notify("STOPPING=1\nSTATUS=draining");
  const auto undelivered = gateway->shutdown();
  return undelivered == 0 ? 0 : 1;
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App cli{"Intake: HTTP to Kafka collection gateway"};
  cli.require_subcommand(1);

  std::string config_path;
  std::string log_level = "info";
  auto* run_command = cli.add_subcommand("run", "Serve HTTP and produce records to Kafka");
  run_command->add_option("-c,--config", config_path, "YAML configuration file")->required();
  run_command->add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  std::string check_path;
  auto* check_command = cli.add_subcommand("check-config", "Validate a YAML configuration file and exit");
  check_command->add_option("-c,--config", check_path, "YAML configuration file")->required();

  std::string secret;
  auto* hash_command = cli.add_subcommand("hash-key", "Print the secret_sha256 to store for an API key");
  hash_command->add_option("secret", secret, "the API key's secret")->required();

  CLI11_PARSE(cli, argc, argv);

  if (*hash_command) {
    std::cout << intake::crypto::to_hex(intake::crypto::sha256(secret)) << "\n";
    return 0;
  }
  if (*check_command) {
    try {
      const auto file = intake::config::load_static_config(check_path);
      std::cout << check_path << ": ok (" << file.key_count << " keys)\n";
      return 0;
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  return run(config_path);
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
