// Ticket: which spooled record, as the spool hands it out with a record and takes it back in
// done(). It rides in librdkafka's per-message opaque, so it is one integer.
#pragma once

#include <cstdint>

namespace intake::spool {

// Segment number << 32 | record number in that segment. Never 0 (segments start at 1).
using Ticket = std::uint64_t;

inline Ticket make_ticket(std::uint32_t seq, std::uint32_t record) { return (static_cast<Ticket>(seq) << 32) | record; }
inline std::uint32_t ticket_segment(Ticket ticket) { return static_cast<std::uint32_t>(ticket >> 32); }
inline std::uint32_t ticket_record(Ticket ticket) { return static_cast<std::uint32_t>(ticket & 0xFFFFFFFFu); }

}  // namespace intake::spool
