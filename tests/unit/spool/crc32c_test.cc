#include "spool/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace intake::spool {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's CRC-32C check value
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, CanBeComputedInPieces) { EXPECT_EQ(crc32c("56789", crc32c("1234")), crc32c("123456789")); }

// Every one of the 64 single-bit flips of an 8-byte record changes the checksum ('a' and 'b'
// would differ in two bits, which proves less).
TEST(Crc32c, ChangesWithEverySingleBitFlip) {
  const std::string original = "record-a";
  const auto reference = crc32c(original);
  for (std::size_t byte = 0; byte < original.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = original;
      flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
      EXPECT_NE(crc32c(flipped), reference) << "byte " << byte << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace intake::spool
