// The spool's on-disk format, in one place.
//
// A spool directory holds segments, numbered in the order they were opened. Each segment is a
// pair of files:
//
//   <seq>.log    the records, appended in order, never rewritten
//   <seq>.acks   one bit per record (bit i of byte i/8 = record i), set once the record needs
//                nothing more: Kafka acknowledged it, it was spooled again after a failure, or
//                it no longer reads back (see "Damage"). Memory-mapped, so a bit set survives
//                kill -9 without a system call.
//
// <seq> is 10 decimal digits (0000000001.log). A segment is deleted, both files, only when it
// is no longer written to and every one of its records has its bit set; a segment that held
// damaged bytes is moved to damaged/ instead (see "Damage").
//
// .log layout, format 2 (written since the sync marker was added):
//
//   +---------------------------------------------------------------------------------+
//   | magic: 8 bytes "INTKSP02"                                                       |
//   +--------+-----------+-----------+-------------+------------+---------------------+
//   | sync   | record u32| length u32| payload crc | header crc | payload: `length` B |  record 0
//   +--------+-----------+-----------+-------------+------------+---------------------+
//   | sync   | record u32| length u32| payload crc | header crc | payload             |  record 1
//   +--------+-----------+-----------+-------------+------------+---------------------+
//   ...
//
//   sync         4 bytes C1 FE A5 F7 (bytes that never occur in UTF-8 text), so a reader that
//                lost its place finds the next frame by searching for them instead of trying
//                every offset
//   record       the record's number in the segment (0, 1, 2, ...), = its bit in .acks. After
//                damage it says how many records were lost and which ack bits the records
//                after it own.
//   payload crc  crc32c of the payload
//   header crc   crc32c of the 16 header bytes before it: the header is trusted on its own,
//                so its length can be used to step over a frame whose payload is damaged.
//                It covers no offset: frames still check out if bytes before them went missing.
//
// Integers are little-endian.
//
// Format 1 (magic "INTKSP01", written before the sync marker) frames records as
// `length u32 | crc32c u32 | payload` with no sync marker and no record number. Such segments
// are still read back and replayed; new segments are always format 2. Going back to a version
// that writes format 1 needs an empty spool directory: those versions do not know INTKSP02 and
// would rewrite such a segment as empty. A file that starts with
// neither magic is read as format 2 if a format-2 header is found in it (a damaged magic),
// else it is moved to damaged/ whole and nothing in it is replayed.
//
// Damage. A frame that does not read back (CRC mismatch, I/O error) is one of two things:
//   - a torn tail: nothing that reads back follows it (the process died mid-write). Recovery
//     copies those bytes to damaged/<seq>-at-<offset>.torn and cuts them off the segment.
//   - mid-segment damage: a frame that reads back follows it. Format 2: if the damaged frame's
//     header checks out and its length leads to the next header, exactly that frame is
//     stepped over; otherwise the reader resumes at the next sync marker whose header checks
//     out and whose record number is not lower than the one expected. The records in between
//     (known from the record numbers) are lost, their bits are set so the segment can finish,
//     and every other record, before and after, is replayed. Format 1: the reader resumes only
//     when the damaged frame's length still leads to a frame that reads back; otherwise the
//     rest of the segment is not replayed (it stays on disk with the segment).
//   Bytes that do not read back are never deleted: a segment that held damage is moved to
//   damaged/<seq>.log (+ .acks) once its other records are done, and stays there until an
//   operator removes it. The gateway never reads or deletes anything under damaged/.
//   Limit: the search for the next sync marker runs through the damaged frames' bytes; a
//   client value that embeds a well-formed frame carrying the record number expected next
//   could be taken for a record if that value's own frame is among the damaged ones.
//
// The .acks file carries no checksum (a bit is set with one store to a mapping). If it does not
// read back, or has a bit set for a record that cannot exist (past the last record and past
// what the bytes cut off after it could have held), it is not what the gateway wrote: it is
// moved to damaged/<seq>.acks.bad and every bit starts cleared, so every record is replayed
// (duplicates, never a loss). A bit wrongly set inside the record range cannot be detected.
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

inline constexpr std::string_view kSegmentMagic = "INTKSP02";
inline constexpr std::string_view kSegmentMagicV1 = "INTKSP01";  // read, never written
static_assert(kSegmentMagic.size() == kSegmentMagicV1.size());
inline constexpr std::string_view kFrameSync = "\xC1\xFE\xA5\xF7";
inline constexpr std::size_t kFrameHeaderBytes = 20;   // sync, record, length, payload crc, header crc
inline constexpr std::size_t kFrameHeaderBytesV1 = 8;  // length, crc32c
inline constexpr std::uint8_t kPayloadFormat = 1;
// Bounds the .acks file (128 KiB) and lets a ticket hold the record number in 32 bits.
inline constexpr std::uint32_t kMaxRecordsPerSegment = 1u << 20;
inline constexpr std::size_t kAckFileBytes = kMaxRecordsPerSegment / 8;
// A frame longer than this is corruption, not a record (the HTTP body limit is 64 MiB at most).
inline constexpr std::uint32_t kMaxPayloadBytes = 80u * 1024 * 1024;
// Where damaged segments and the bytes cut off them go, under the spool directory.
inline constexpr std::string_view kDamagedDir = "damaged";

}  // namespace intake::spool
