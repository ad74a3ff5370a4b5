// CRC-32C (Castagnoli), the checksum every spooled record carries so that a torn or corrupted
// record is detected on replay instead of being produced to Kafka.
#pragma once

#include <cstdint>
#include <string_view>

namespace intake::spool {

// Returns the CRC-32C of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace intake::spool
