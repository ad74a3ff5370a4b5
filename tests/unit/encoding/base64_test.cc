#include "encoding/base64.h"

#include <gtest/gtest.h>

#include <vector>

namespace intake::encoding {
namespace {

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (const std::string& text :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    const auto encoded = base64_encode(text);
    const auto decoded = base64_decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, text);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(base64_decode("Zm9"));       // length not a multiple of 4
  EXPECT_FALSE(base64_decode("Zm9v!A=="));  // character outside the alphabet
  EXPECT_FALSE(base64_decode("Z=9v"));      // padding in the middle
  EXPECT_FALSE(base64_decode("Zm==Zm9v"));  // padding before the last quantum
}

}  // namespace
}  // namespace intake::encoding
