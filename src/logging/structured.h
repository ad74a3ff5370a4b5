// Structured log lines. Every spdlog call in the gateway goes through one formatter, which
// writes a JSON object per line, a logfmt line, or the readable text form (logging.format).
// event() adds fields to a line: in JSON and logfmt they are top-level keys, in text they
// follow the message as key=value.
#pragma once

#include <spdlog/common.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "logging/log_options.h"

namespace spdlog {
class formatter;
}

namespace intake::logging {

using FieldValue = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;

struct Field {
  std::string_view key;  // a plain identifier: [a-z0-9_]
  FieldValue value;
};

// One line with fields. Fields are formatted only when `level` is enabled.
void event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<Field> fields);

// The formatter for `format`, for tests and for configure().
std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format);

// Installs the format on the default logger and sets the level. Start-up only.
void configure(LogFormat format, spdlog::level::level_enum level);

// "trace" … "critical", "off"; nothing for anything else.
std::optional<spdlog::level::level_enum> parse_level(std::string_view text);
std::string_view level_name(spdlog::level::level_enum level);

// The escapes the formats use, exposed for tests: JSON string contents (control characters as
// \u00XX, bytes that are not UTF-8 as U+FFFD) and a logfmt value (quoted when it holds a space,
// '=', '"', a control character or nothing at all).
void append_json_string(std::string& out, std::string_view text);
void append_logfmt_value(std::string& out, std::string_view text);

}  // namespace intake::logging
