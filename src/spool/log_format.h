// The spool's on-disk format, in one place.
//
// A spool directory holds segments, numbered in the order they were opened. Each segment is a
// pair of files:
//
//   <seq>.log    the records, appended in order, never rewritten
//   <seq>.acks   one bit per record (bit i of byte i/8 = record i), set once the record needs
//                nothing more: Kafka acknowledged it, or it was spooled again after a failure.
//                Memory-mapped, so a bit set survives kill -9 without a system call.
//
// <seq> is 10 decimal digits (0000000001.log). A segment is deleted, both files, only when it
// is no longer written to and every one of its records has its bit set.
//
// .log layout:
//
//   +--------------------------------------------------------------+
//   | magic: 8 bytes "INTKSP01"                                    |
//   +-----------+-----------+--------------------------------------+
//   | length u32| crc32c u32| payload: `length` bytes              |  record 0
//   +-----------+-----------+--------------------------------------+
//   | length u32| crc32c u32| payload                              |  record 1
//   +-----------+-----------+--------------------------------------+
//   ...
//
// Integers are little-endian. crc32c covers the payload. A record whose frame runs past the
// end of the file, or whose CRC does not match, is a torn tail (the process died mid-write): it
// and anything after it are skipped on recovery, with a log line.
//
// payload (record_codec.h):
//   u8  format (1)
//   i32 partition (-1 = the partitioner chooses)
//   u16 topic length, topic bytes
//   u32 key length, key bytes
//   u16 header count, then per header: u16 name length, name, u32 value length, value
//   u32 value length, value bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace intake::spool {

inline constexpr std::string_view kSegmentMagic = "INTKSP01";
inline constexpr std::size_t kFrameHeaderBytes = 8;  // length + crc32c
inline constexpr std::uint8_t kPayloadFormat = 1;
// Bounds the .acks file (128 KiB) and lets a ticket hold the record number in 32 bits.
inline constexpr std::uint32_t kMaxRecordsPerSegment = 1u << 20;
inline constexpr std::size_t kAckFileBytes = kMaxRecordsPerSegment / 8;
// A frame longer than this is corruption, not a record (the HTTP body limit is 64 MiB at most).
inline constexpr std::uint32_t kMaxPayloadBytes = 80u * 1024 * 1024;

}  // namespace intake::spool
