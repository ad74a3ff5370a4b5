#include "spool/crc32c.h"

#include <gtest/gtest.h>

namespace intake::spool {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // RFC 3720's CRC-32C check value
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, CanBeComputedInPieces) {
  EXPECT_EQ(crc32c("56789", crc32c("1234")), crc32c("123456789"));
}

TEST(Crc32c, ChangesWithASingleBit) { EXPECT_NE(crc32c("record-a"), crc32c("record-b")); }

}  // namespace
}  // namespace intake::spool
