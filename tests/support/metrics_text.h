// Reads one sample out of a Prometheus text exposition, for tests that check /metrics.
#pragma once

#include <string>

namespace intake::testing {

// The value of the sample named exactly `name` (labels included, e.g.
// `intake_records_failed_total{reason="too_large"}`), or -1 when it is absent.
inline double metric_value(const std::string& exposition, const std::string& name) {
  const auto at = exposition.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(exposition.substr(at + name.size() + 2));
}

}  // namespace intake::testing
