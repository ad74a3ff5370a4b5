// The YAML of `intake run --config` (config/static_config.h) and the YAML → JSON rule every
// YAML value passes (config/yaml_json.h). Start-up code: errors are exceptions, which main()
// catches as std::exception, so anything else escaping is a finding. yaml_to_json must always
// give JSON that parses.
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "config/static_config.h"
#include "config/yaml_json.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace intake;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const YAML::Node node = YAML::Load(text);
    if (auto json = config::yaml_to_json(node)) {
      simdjson::dom::parser parser;
      FUZZ_CHECK(parser.parse(json.value()).error() == simdjson::SUCCESS);
    }
  } catch (const YAML::Exception&) {
  }
  try {
    const config::StaticConfig parsed = config::parse_static_config(text, "fuzz.yaml");
    FUZZ_CHECK(parsed.keys.entries.size() == parsed.key_count);
    (void)config::config_from_static(parsed);
  } catch (const std::exception&) {
  }
  return 0;
}
