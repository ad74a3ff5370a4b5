// YAML → JSON text: the one rule by which YAML written by an operator becomes the JSON the
// config builder reads — for the file source's values and for the static config's `keys:` —
// so a field means the same wherever it is written. Mappings become objects, sequences arrays;
// a quoted scalar is a JSON string; a plain one is true/false/null (also True/TRUE/..., ~ and
// empty for null) or a number when it is spelled as a JSON number, else a string: `n: 5` is 5,
// `n: "5"` is "5", `v: 0x1F` and `r: .5` are strings. Explicitly tagged scalars are strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "error/result.h"

namespace intake::config {

// The JSON text of `node`. Errors (invalid_config): a mapping key that is not a scalar, naming
// its line.
Result<std::string> yaml_to_json(const YAML::Node& node);

// "line N" of a node, for messages.
std::string yaml_line_of(const YAML::Node& node);

}  // namespace intake::config
