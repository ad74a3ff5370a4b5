#include "config/env_overrides.h"

#include <algorithm>
#include <cctype>

namespace intake::config {
namespace {

constexpr std::string_view kPrefix = "INTAKE_";
constexpr std::string_view kSeparator = "__";

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> override_path(std::string_view name) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = name.substr(kPrefix.size());
  if (rest.find(kSeparator) == std::string_view::npos) return std::nullopt;
  std::vector<std::string> path;
  for (;;) {
    const auto at = rest.find(kSeparator);
    path.push_back(lowercase(rest.substr(0, at)));
    if (at == std::string_view::npos) break;
    rest = rest.substr(at + kSeparator.size());
  }
  if (path.size() > 2 && path[0] == "kafka" && path[1] == "properties") {
    for (auto level = path.begin() + 2; level != path.end(); ++level)
      std::replace(level->begin(), level->end(), '_', '.');
  }
  return path;
}

std::vector<EnvOverride> env_overrides(const char* const* environment) {
  std::vector<EnvOverride> found;
  for (auto entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    auto path = override_path(text.substr(0, equals));
    if (!path) continue;
    found.push_back({std::string(text.substr(0, equals)), std::move(*path), std::string(text.substr(equals + 1))});
  }
  std::sort(found.begin(), found.end(),
            [](const EnvOverride& a, const EnvOverride& b) { return a.variable < b.variable; });
  return found;
}

std::string dotted_path(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& level : path) {
    if (!out.empty()) out += '.';
    out += level;
  }
  return out;
}

}  // namespace intake::config
