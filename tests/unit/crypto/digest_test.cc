#include "crypto/digest.h"

#include <gtest/gtest.h>

namespace intake::crypto {
namespace {

TEST(Sha256, MatchesKnownVector) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Hex, RoundTripsAndRejectsBadInput) {
  const auto digest = sha256("intake-demo-key");
  const auto parsed = parse_sha256_hex(to_hex(digest));
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(constant_time_equal(*parsed, digest));
  std::string upper = to_hex(digest);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(parse_sha256_hex(upper));
  EXPECT_FALSE(parse_sha256_hex(to_hex(digest).substr(1)));
  EXPECT_FALSE(parse_sha256_hex(std::string(64, 'g')));
}

TEST(ConstantTimeEqual, DetectsADifferenceInTheLastByte) {
  auto a = sha256("x");
  auto b = a;
  b[31] ^= 1;
  EXPECT_FALSE(constant_time_equal(a, b));
  EXPECT_TRUE(constant_time_equal(a, a));
}

}  // namespace
}  // namespace intake::crypto
