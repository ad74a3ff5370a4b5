// Matching topic globs (syntax: names/topic_glob.h): `*` matches any run of characters
// (including none), `?` matches exactly one; every other character matches itself.
#pragma once

#include <string_view>

namespace intake::policy {

// Returns true iff `text` matches `pattern` as a whole.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace intake::policy
