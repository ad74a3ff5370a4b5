#include "api/object_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace intake::api {
namespace {

// Feeds `stream` in pieces of `step` bytes, as a chunked body arrives; returns the objects.
std::vector<std::string> split(std::string_view stream, std::size_t step, std::size_t max_bytes = 1024) {
  ObjectSplitter splitter(max_bytes);
  std::string buffer;
  std::vector<std::string> objects;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    buffer.append(stream.substr(at, step));
    for (;;) {
      auto found = splitter.next(buffer);
      EXPECT_TRUE(found.ok()) << found.error().message;
      if (!found.ok() || !found.value()) break;
      objects.push_back(buffer.substr(0, *found.value()));
      buffer.erase(0, *found.value());
    }
  }
  return objects;
}

TEST(ObjectSplitter, FindsEachObjectHoweverTheBytesArrive) {
  const std::string stream = R"({"value":{"type":"JSON","data":{"a":[1,{"b":2}]}}} {"s":"a } in \" a string {"}
{"x":1})";
  for (std::size_t step : {1u, 3u, 7u, 1000u}) {
    const auto objects = split(stream, step);
    ASSERT_EQ(objects.size(), 3u) << "step " << step;
    EXPECT_EQ(objects[0], R"({"value":{"type":"JSON","data":{"a":[1,{"b":2}]}}})");
    EXPECT_EQ(objects[1], R"( {"s":"a } in \" a string {"})");
    EXPECT_EQ(objects[2], "\n{\"x\":1}");
  }
}

TEST(ObjectSplitter, AnythingButObjectsIsRefused) {
  ObjectSplitter splitter(1024);
  auto found = splitter.next("[1,2]");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(found.error().message, "the stream must be JSON objects one after another; found '['");
}

TEST(ObjectSplitter, AnObjectOverTheLimitIsRefusedBeforeItEnds) {
  ObjectSplitter splitter(16);
  auto found = splitter.next(R"({"value":"0123456789abcdef)");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(ObjectSplitter, KnowsWhenItStopsMidObject) {
  ObjectSplitter splitter(1024);
  EXPECT_TRUE(splitter.between_objects());
  auto found = splitter.next(R"(  {"a":)");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found.value().has_value());
  EXPECT_FALSE(splitter.between_objects());
}

}  // namespace
}  // namespace intake::api
