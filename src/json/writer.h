// Minimal JSON output into a caller-owned buffer, so responses are built without intermediate
// objects: string escaping and numbers, and a Writer that lays out objects and arrays with the
// commas placed for the caller. Parsing lives elsewhere (simdjson).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace intake::json {

// Appends `text` as a JSON string literal (with quotes), escaping per RFC 8259.
void append_string(std::string& out, std::string_view text);

// Appends a decimal integer.
void append_int(std::string& out, std::int64_t value);
void append_uint(std::string& out, std::uint64_t value);

// Appends a number as printf's %.15g writes it (integral values without a fraction).
void append_double(std::string& out, double value);

// Writes one JSON value into `out`, appending: objects and arrays nest, and the comma before
// each member or element is written for the caller. It does not check the nesting; the
// caller closes what it opens, and inside an object writes a name before each value
// (`field`, `begin_object(name)`, `begin_array(name)`, or `name` then a value).
//
//   json::Writer json(body);
//   json.begin_object().field("topic", topic).field("offset", offset).end_object();
//   // {"topic":"events","offset":41}
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();

  // The member name inside an object; the next call writes its value.
  Writer& name(std::string_view member);

  Writer& value(std::string_view text);
  Writer& value(const char* text) { return value(std::string_view(text)); }
  Writer& value(bool flag);
  Writer& value(double number);
  template <std::integral T>
  requires(!std::same_as<T, bool>) Writer& value(T number) {
    separate();
    if constexpr (std::is_signed_v<T>) {
      append_int(out_, number);
    } else {
      append_uint(out_, number);
    }
    return done();
  }
  Writer& null();

  // name(member) then value(value).
  template <typename T>
  Writer& field(std::string_view member, const T& value) {
    return name(member).value(value);
  }
  Writer& null_field(std::string_view member) { return name(member).null(); }
  Writer& begin_object(std::string_view member) { return name(member).begin_object(); }
  Writer& begin_array(std::string_view member) { return name(member).begin_array(); }

 private:
  // A comma goes before a value or name iff a value ended just before it at the same level.
  void separate() {
    if (after_value_) out_ += ',';
  }
  Writer& done() {
    after_value_ = true;
    return *this;
  }
  Writer& open(char bracket);
  Writer& close(char bracket);

  std::string& out_;
  bool after_value_ = false;
};

}  // namespace intake::json
