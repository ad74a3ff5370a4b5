#include "logging/structured.h"

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <span>

namespace intake::logging {
namespace {

// The fields of the line being logged on this thread: event() sets them around its spdlog
// call, and the formatter (which runs on the calling thread, the sinks being synchronous) reads
// them.
thread_local std::span<const Field> t_fields;

constexpr std::array<std::string_view, 7> kLevelNames{"trace", "debug", "info", "warn", "error", "critical", "off"};

// The length of the UTF-8 sequence at text[i], or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  std::uint32_t min = 0;
  if (byte < 0x80) return 1;
  if ((byte & 0xE0) == 0xC0) {
    length = 2;
    min = 0x80;
  } else if ((byte & 0xF0) == 0xE0) {
    length = 3;
    min = 0x800;
  } else if ((byte & 0xF8) == 0xF0) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  std::uint32_t code = byte & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void append_hex_escape(std::string& out, unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof(text), "\\u%04x", byte);
  out.append(text);
}

// The text form's message as it is, but for control characters: a newline in client input
// must not start a line of its own.
void append_text_message(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\n') {
      out.append("\\n");
    } else if (byte == '\r') {
      out.append("\\r");
    } else if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
      append_hex_escape(out, byte);
    } else {
      out.push_back(c);
    }
  }
}

bool needs_logfmt_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || c == '=' || c == '"' || c == '\\' || byte == 0x7F || byte >= 0x80) return true;
  }
  return false;
}

void append_number(std::string& out, auto value) {
  char text[32];
  const auto [end, error] = std::to_chars(text, text + sizeof(text), value);
  out.append(text, error == std::errc{} ? end : text);
}

// A field's value as text: numbers and booleans bare; strings are for the caller to escape.
struct ValueText {
  std::string text;
  bool is_string = false;
};

ValueText value_text(const FieldValue& value) {
  ValueText out;
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          out.text.assign(v);
          out.is_string = true;
        } else if constexpr (std::is_same_v<T, bool>) {
          out.text = v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          // NaN and infinities are not JSON numbers: null keeps the line parseable.
          if (std::isfinite(v)) {
            append_number(out.text, v);
          } else {
            out.text = "null";
          }
        } else {
          append_number(out.text, v);
        }
      },
      value);
  return out;
}

// "config: applied …" → component "config", message "applied …": the gateway's lines name
// their part first, which JSON and logfmt readers want as a field of its own.
std::pair<std::string_view, std::string_view> split_component(std::string_view message) {
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0 || colon > 16) return {{}, message};
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = message[i];
    if (!((c >= 'a' && c <= 'z') || c == '_')) return {{}, message};
  }
  return {message.substr(0, colon), message.substr(colon + 2)};
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point at, bool iso) {
  const auto since = at.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds).count();
  const std::time_t whole = seconds.count();
  std::tm parts{};
  gmtime_r(&whole, &parts);
  char text[40];
  std::snprintf(text, sizeof(text), iso ? "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" : "%04d-%02d-%02d %02d:%02d:%02d.%03d",
                parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(millis));
  out.append(text);
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view level = level_name(msg.level);
    switch (format_) {
      case LogFormat::kJson:
        write_json(line, msg, level, payload);
        break;
      case LogFormat::kLogfmt:
        write_logfmt(line, msg, level, payload);
        break;
      case LogFormat::kText:
        write_text(line, msg, level, payload);
        break;
    }
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(format_); }

 private:
  static void write_json(std::string& line, const spdlog::details::log_msg& msg, std::string_view level,
                         std::string_view payload) {
    const auto [component, message] = split_component(payload);
    line.append("{\"ts\":\"");
    append_timestamp(line, msg.time, true);
    line.append("\",\"level\":\"").append(level).append("\"");
    if (!component.empty()) line.append(",\"component\":\"").append(component).append("\"");
    line.append(",\"msg\":");
    append_json_string(line, message);
    for (const Field& field : t_fields) {
      line.append(",\"").append(field.key).append("\":");
      const auto value = value_text(field.value);
      if (value.is_string) {
        append_json_string(line, value.text);
      } else {
        line.append(value.text);
      }
    }
    line.push_back('}');
  }

  static void write_logfmt(std::string& line, const spdlog::details::log_msg& msg, std::string_view level,
                           std::string_view payload) {
    const auto [component, message] = split_component(payload);
    line.append("ts=");
    append_timestamp(line, msg.time, true);
    line.append(" level=").append(level);
    if (!component.empty()) line.append(" component=").append(component);
    line.append(" msg=");
    append_logfmt_value(line, message);
    append_logfmt_fields(line);
  }

  static void write_text(std::string& line, const spdlog::details::log_msg& msg, std::string_view level,
                         std::string_view payload) {
    line.push_back('[');
    append_timestamp(line, msg.time, false);
    line.append("] [").append(level).append("] ");
    append_text_message(line, payload);
    append_logfmt_fields(line);
  }

  static void append_logfmt_fields(std::string& line) {
    for (const Field& field : t_fields) {
      line.append(" ").append(field.key).append("=");
      append_logfmt_value(line, value_text(field.value).text);
    }
  }

  LogFormat format_;
};

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
      ++i;
    } else if (byte == '\n') {
      out.append("\\n");
      ++i;
    } else if (byte == '\t') {
      out.append("\\t");
      ++i;
    } else if (byte < 0x20 || byte == 0x7F) {
      append_hex_escape(out, byte);
      ++i;
    } else if (byte < 0x80) {
      out.push_back(static_cast<char>(byte));
      ++i;
    } else if (const auto length = utf8_length(text, i); length > 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append("\\ufffd");  // not UTF-8: JSON readers would refuse the whole line
      ++i;
    }
  }
  out.push_back('"');
}

void append_logfmt_value(std::string& out, std::string_view text) {
  if (!needs_logfmt_quotes(text)) {
    out.append(text);
    return;
  }
  // The JSON string form is a quoted logfmt value that every logfmt reader accepts.
  append_json_string(out, text);
}

void event(spdlog::level::level_enum level, std::string_view message, std::initializer_list<Field> fields) {
  if (!spdlog::should_log(level)) return;
  const std::span<const Field> previous = t_fields;
  t_fields = std::span<const Field>(fields.begin(), fields.size());
  spdlog::log(level, "{}", message);
  t_fields = previous;
}

std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format) { return std::make_unique<LineFormatter>(format); }

void configure(LogFormat format, spdlog::level::level_enum level) {
  spdlog::set_formatter(make_formatter(format));
  spdlog::set_level(level);
}

std::optional<spdlog::level::level_enum> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (text == kLevelNames[i]) return static_cast<spdlog::level::level_enum>(i);
  }
  if (text == "warning") return spdlog::level::warn;
  return std::nullopt;
}

std::string_view level_name(spdlog::level::level_enum level) {
  const auto index = static_cast<std::size_t>(level);
  return index < kLevelNames.size() ? kLevelNames[index] : "info";
}

}  // namespace intake::logging
