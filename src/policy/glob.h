// Topic glob patterns for key rights: `*` matches any run of characters (including none),
// `?` matches exactly one; every other character matches itself. Kafka topic names cannot
// contain `*` or `?`, so no escaping is needed.
#pragma once

#include <string_view>

namespace intake::policy {

// Returns true iff `text` matches `pattern` as a whole.
bool glob_match(std::string_view pattern, std::string_view text);

// Returns an empty string if `pattern` is a usable topic glob, else what is wrong with it.
std::string_view glob_problem(std::string_view pattern);

}  // namespace intake::policy
