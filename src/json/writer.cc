#include "json/writer.h"

#include <charconv>
#include <cstdio>

namespace intake::json {

void append_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void append_int(std::string& out, std::int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void append_double(std::string& out, double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  out += text;
}

Writer& Writer::open(char bracket) {
  separate();
  out_ += bracket;
  after_value_ = false;
  return *this;
}

Writer& Writer::close(char bracket) {
  out_ += bracket;
  return done();
}

Writer& Writer::begin_object() { return open('{'); }
Writer& Writer::end_object() { return close('}'); }
Writer& Writer::begin_array() { return open('['); }
Writer& Writer::end_array() { return close(']'); }

Writer& Writer::name(std::string_view member) {
  separate();
  append_string(out_, member);
  out_ += ':';
  after_value_ = false;
  return *this;
}

Writer& Writer::value(std::string_view text) {
  separate();
  append_string(out_, text);
  return done();
}

Writer& Writer::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return done();
}

Writer& Writer::value(double number) {
  separate();
  append_double(out_, number);
  return done();
}

Writer& Writer::null() {
  separate();
  out_ += "null";
  return done();
}

}  // namespace intake::json
