#include "config/yaml_json.h"

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


// Appends `node` as JSON (the rule in yaml_json.h). Returns an error message, or empty.
std::string append_json(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      out += "null";
      return {};
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() != "?") {  // quoted ("!") or explicitly tagged: a string
        json::append_string(out, text);
      } else if (text == "true" || text == "True" || text == "TRUE") {
        out += "true";
      } else if (text == "false" || text == "False" || text == "FALSE") {
        out += "false";
      } else if (is_json_number(text)) {
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
        if (auto problem = append_json(item, out); !problem.empty()) return problem;
      }
      out += ']';
      return {};
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& item : node) {
        if (!item.first.IsScalar()) return yaml_line_of(item.first) + ": a mapping key must be a scalar";
        if (!first) out += ',';
        first = false;
        json::append_string(out, item.first.Scalar());
        out += ':';
        if (auto problem = append_json(item.second, out); !problem.empty()) return problem;
      }
      out += '}';
      return {};
    }
  }
  return "unknown YAML node type";
}

}  // namespace

Result<std::string> yaml_to_json(const YAML::Node& node) {
  std::string out;
  if (auto problem = append_json(node, out); !problem.empty()) return Error{ErrorCode::kInvalidConfig, problem};
  return out;
}

}  // namespace intake::config
