#include "config/yaml_json.h"

#include <simdjson.h>

#include <string_view>

#include "json/writer.h"

namespace intake::config {

std::string yaml_line_of(const YAML::Node& node) { return "line " + std::to_string(node.Mark().line + 1); }

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view text) {
  std::size_t at = 0;
  const auto digits = [&] {
    const std::size_t from = at;
    while (at < text.size() && is_digit(text[at])) ++at;
    return at > from;
  };
  if (at < text.size() && text[at] == '-') ++at;
  if (at < text.size() && text[at] == '0') {
    ++at;
  } else if (!digits()) {
    return false;
  }
  if (at < text.size() && text[at] == '.') {
    ++at;
    if (!digits()) return false;
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-')) ++at;
    if (!digits()) return false;
  }
  return at == text.size();
}

Error invalid(std::string what) { return Error{ErrorCode::kInvalidConfig, std::move(what)}; }

// True iff the config builder's JSON parser takes `number` (is_json_number): simdjson refuses
// numbers beyond a double or a 64-bit integer (1e400, 30-digit integers), which RFC 8259 allows.
bool number_fits(const std::string& number) {
  simdjson::dom::parser parser;
  return parser.parse(number).error() == simdjson::SUCCESS;
}

// "true" or "false" when a plain (untagged, unquoted) scalar spells one of them, else nullptr.
const char* plain_scalar_literal(const std::string& text) {
  if (text == "true" || text == "True" || text == "TRUE") return "true";
  if (text == "false" || text == "False" || text == "FALSE") return "false";
  return nullptr;
}

// Appends `node` as JSON (the rule in yaml_json.h).
Result<void> append_json(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out += "null";
      return {};
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      // JSON text is UTF-8 (RFC 8259): bytes that are not would make the whole value unreadable
      // to the config builder, with a message about JSON the operator never wrote.
      if (!simdjson::validate_utf8(text.data(), text.size())) {
        return invalid(yaml_line_of(node) + ": a value is not valid UTF-8");
      }
      const bool plain = node.Tag() == "?";  // not quoted ("!") nor explicitly tagged
      if (const char* literal = plain ? plain_scalar_literal(text) : nullptr; literal != nullptr) {
        out += literal;
      } else if (plain && is_json_number(text)) {
        if (!number_fits(text)) {
          return invalid(yaml_line_of(node) + ": the number " + text +
                         " is out of range; quote it if it is meant as text");
        }
        out += text;
      } else {
        json::append_string(out, text);
      }
      return {};
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        if (auto appended = append_json(item, out); !appended) return appended;
      }
      out += ']';
      return {};
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& item : node) {
        if (!item.first.IsScalar()) return invalid(yaml_line_of(item.first) + ": a mapping key must be a scalar");
        const std::string& key = item.first.Scalar();
        if (!simdjson::validate_utf8(key.data(), key.size())) {
          return invalid(yaml_line_of(item.first) + ": a mapping key is not valid UTF-8");
        }
        if (!first) out += ',';
        first = false;
        json::append_string(out, key);
        out += ':';
        if (auto appended = append_json(item.second, out); !appended) return appended;
      }
      out += '}';
      return {};
    }
  }
  return invalid("unknown YAML node type");
}

}  // namespace

Result<std::string> yaml_to_json(const YAML::Node& node) {
  std::string out;
  if (auto appended = append_json(node, out); !appended) return std::move(appended).error();
  return out;
}

}  // namespace intake::config
