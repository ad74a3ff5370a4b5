#include "json/writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace intake::json {
namespace {

TEST(JsonAppend, EscapesStringsPerRfc8259) {
  std::string out;
  append_string(out, "a\"b\\c\nd\re\tf\x01g\x1fh/\xc3\xa9");
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\u0001g\u001fh/)"
                 "\xc3\xa9\"");
}

TEST(JsonAppend, WritesIntegersAndDoubles) {
  std::string out;
  append_int(out, std::numeric_limits<std::int64_t>::min());
  out += ' ';
  append_uint(out, std::numeric_limits<std::uint64_t>::max());
  out += ' ';
  append_double(out, 500);
  out += ' ';
  append_double(out, 0.25);
  out += ' ';
  append_double(out, 1e6);
  EXPECT_EQ(out, "-9223372036854775808 18446744073709551615 500 0.25 1000000");
}

TEST(JsonWriter, WritesEmptyObjectsAndArrays) {
  std::string out;
  Writer(out).begin_object().end_object();
  EXPECT_EQ(out, "{}");
  out.clear();
  Writer(out).begin_array().end_array();
  EXPECT_EQ(out, "[]");
}

TEST(JsonWriter, PutsCommasBetweenFieldsOnly) {
  std::string out;
  Writer(out)
      .begin_object()
      .field("topic", "events")
      .field("partition", 2)
      .field("offset", std::int64_t{41})
      .end_object();
  EXPECT_EQ(out, R"({"topic":"events","partition":2,"offset":41})");
}

TEST(JsonWriter, WritesEveryKindOfValue) {
  std::string out;
  const std::string owned = "text";
  Writer(out)
      .begin_object()
      .field("view", std::string_view("v"))
      .field("string", owned)
      .field("literal", "lit")
      .field("yes", true)
      .field("no", false)
      .field("signed", -3)
      .field("unsigned", std::uint64_t{18446744073709551615u})
      .field("size", std::size_t{7})
      .field("double", 1.5)
      .null_field("nothing")
      .end_object();
  EXPECT_EQ(out, R"({"view":"v","string":"text","literal":"lit","yes":true,"no":false,"signed":-3,)"
                 R"("unsigned":18446744073709551615,"size":7,"double":1.5,"nothing":null})");
}

TEST(JsonWriter, EscapesNamesAndValues) {
  std::string out;
  Writer(out).begin_object().field("a\"b", "line\nbreak").end_object();
  EXPECT_EQ(out, R"({"a\"b":"line\nbreak"})");
}

TEST(JsonWriter, NestsObjectsAndArrays) {
  std::string out;
  Writer json(out);
  json.begin_object().field("version", 3);
  json.begin_object("counters").field("published", 1).field("rejected", 0).end_object();
  json.begin_array("sources");
  json.begin_object().field("name", "a").end_object();
  json.begin_object().field("name", "b").end_object();
  json.end_array();
  json.begin_array("empty").end_array();
  json.begin_array("lists").begin_array().value(1).value(2).end_array().begin_array().end_array().end_array();
  json.name("last").null();
  json.end_object();
  EXPECT_EQ(out, R"({"version":3,"counters":{"published":1,"rejected":0},"sources":[{"name":"a"},{"name":"b"}],)"
                 R"("empty":[],"lists":[[1,2],[]],"last":null})");
}

TEST(JsonWriter, WritesArraysOfValues) {
  std::string out;
  Writer(out).begin_array().value("a").value(true).value(0.5).null().value(-1).end_array();
  EXPECT_EQ(out, R"(["a",true,0.5,null,-1])");
}

TEST(JsonWriter, AppendsToWhatTheBufferHolds) {
  std::string out = "prefix:";
  Writer(out).begin_object().field("a", 1).end_object();
  EXPECT_EQ(out, R"(prefix:{"a":1})");
}

TEST(JsonWriter, WritesABareValue) {
  std::string out;
  Writer(out).value("alone");
  EXPECT_EQ(out, R"("alone")");
}

}  // namespace
}  // namespace intake::json
