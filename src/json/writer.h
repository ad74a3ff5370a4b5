// Minimal JSON output: string escaping and appending into a caller-owned buffer, so responses
// are built without intermediate objects. Parsing lives elsewhere (simdjson).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace intake::json {

// Appends `text` as a JSON string literal (with quotes), escaping per RFC 8259.
void append_string(std::string& out, std::string_view text);

// Appends a decimal integer.
void append_int(std::string& out, std::int64_t value);

}  // namespace intake::json
