// Environment overrides of the YAML's settings (docs/configuration.md, "Environment
// overrides"): INTAKE_SERVER__LISTEN=127.0.0.1:9000 sets server.listen.
//
// The rule: the prefix INTAKE_, then the setting's path with "__" between levels, lowercased
// (INTAKE_CONFIG__CONSUL__ADDRESS is config.consul.address). Only names that contain "__" are
// overrides: every top-level setting is a section, so a setting always has two levels, and the
// single-level INTAKE_* names that scripts and tests use (INTAKE_ROOT, INTAKE_KAFKA_BOOTSTRAP)
// are left alone. Below kafka.properties, '_' becomes '.' (librdkafka's names have dots, which
// environment names cannot carry): INTAKE_KAFKA__PROPERTIES__SOCKET_KEEPALIVE_ENABLE is
// kafka.properties.socket.keepalive.enable.
//
// The value is YAML (a scalar, or a flow list or mapping such as [a, b]); it replaces what the
// file says at that path, after the file is read and before it is validated, so the same checks
// and messages apply (config/static_config.h), each naming the variable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace intake::config {

struct EnvOverride {
  std::string variable;           // INTAKE_SERVER__LISTEN
  std::vector<std::string> path;  // {"server", "listen"}
  std::string value;              // YAML text, e.g. 127.0.0.1:9000
};

// The setting path `name` stands for, or nullopt when it is no override (no INTAKE_ prefix or
// no "__"). Empty levels (a trailing "__") are kept, so applying the override reports them.
std::optional<std::vector<std::string>> override_path(std::string_view name);

// Every override among `environment` ("NAME=value" strings ending with a null pointer, as
// `environ`), in name order so that messages and precedence do not depend on the environment's
// order.
std::vector<EnvOverride> env_overrides(const char* const* environment);

// "server.listen".
std::string dotted_path(const std::vector<std::string>& path);

}  // namespace intake::config
