// The syntax of the topic globs that grant a key its rights: topic-name characters plus the
// wildcards `*` (any run, including none) and `?` (exactly one). Kafka topic names cannot
// contain either wildcard, so no escaping is needed. Matching lives in policy/glob.h.
#pragma once

#include <string_view>

#include "error/result.h"

namespace intake::names {

// OK if `pattern` is a usable topic glob; else invalid_config saying what is wrong with it.
Result<void> check_topic_glob(std::string_view pattern);

}  // namespace intake::names
