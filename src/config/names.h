// Naming rules shared by every way keys reach Intake (YAML file, registries).
#pragma once

#include <string_view>

namespace intake::config {

// Returns an empty string if `id` is a usable API key id, else what is wrong with it.
constexpr std::string_view key_id_problem(std::string_view id) {
  if (id.empty() || id.size() > 128) return "key id must be 1 to 128 characters";
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return "key id may contain only a-z A-Z 0-9 . _ -";
  }
  return {};
}

}  // namespace intake::config
