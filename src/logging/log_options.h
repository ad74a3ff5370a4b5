// How the gateway logs (YAML `logging:`, docs/logging.md).
#pragma once

#include <cstdint>
#include <string>

namespace intake::logging {

enum class LogFormat : std::uint8_t { kText, kJson, kLogfmt };

struct LogOptions {
  LogFormat format = LogFormat::kText;
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  // Share of answered requests written to the access log, 0 (none) .. 1 (all). With any rate
  // above 0, answers with a 5xx status are always written.
  double access_log_sample_rate = 0;
};

}  // namespace intake::logging
