#include <librdkafka/rdkafka.h>

#include <string>

#include "app/build_info.h"
#include "app/cli.h"

namespace intake::app {

std::string version_text() {
  std::string text = "intake ";
  text.append(build_info::kVersion)
      .append("\ngit revision: ")
      .append(build_info::kGitRevision)
      .append("\nlibrdkafka: ")
      .append(rd_kafka_version_str())
      .append("\ncompiler: ")
      .append(build_info::kCompiler)
      .append("\nbuild type: ")
      .append(build_info::kBuildType);
  return text;
}

std::string help_footer() {
  return R"(Examples:
  intake run --config /etc/intake/intake.yaml
  intake check-config --config intake.yaml --source
  intake hash-key 's3cret'

Environment overrides: any YAML setting can be set as INTAKE_<LEVEL>__<LEVEL>...=VALUE, levels
separated by "__" and lowercased, the value read as YAML (numbers, true/false, [a, b] lists):
  INTAKE_SERVER__LISTEN=127.0.0.1:9000          sets server.listen
  INTAKE_CONFIG__CONSUL__ADDRESS=http://c:8500  sets config.consul.address
Only names containing "__" are overrides; an unknown setting is an error naming the variable.
They apply to run and check-config alike (docs/configuration.md, "Environment overrides").

check-config exit codes: 0 valid; 1 the registry holds bad keys (--source); 2 the file or an
override is invalid, or a usage error; 3 the registry could not be read (--source).)";
}

std::string check_config_footer() {
  return R"(Exit codes: 0 valid; 1 the registry holds bad keys (--source); 2 the file or an override is
invalid, or a usage error; 3 the registry could not be read (--source).
Environment overrides (INTAKE_SERVER__LISTEN=...) apply, as for run.)";
}

}  // namespace intake::app
