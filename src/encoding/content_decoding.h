// Request-body content decoding: turns a body sent with a Content-Encoding back into the bytes
// the client compressed, without ever holding more than the decoded-size limit.
//
// Rules:
//  - The header value is matched case-insensitively, surrounding spaces and tabs ignored.
//    "" and "identity" need no decoding; "gzip" and "x-gzip" (RFC 9110 8.4.1.3) are gzip; "zstd"
//    is Zstandard (RFC 8878). Anything else is kUnsupportedEncoding (415), and so is a list
//    ("gzip, zstd"): one coding per body is accepted.
//  - The limit is on the decoded size and is enforced while decompressing: output is produced in
//    steps of at most 64 KiB and decoding stops as soon as it would pass the limit
//    (kPayloadTooLarge, 413). A compression bomb costs at most limit + 1 bytes of memory.
//  - zstd frames may ask for a window of at most max(8 MiB, the limit) (RFC 8878 recommends that
//    decoders support 8 MiB); a frame asking for more is refused rather than allocated.
//  - Concatenated gzip members and zstd frames (what `cat a.gz b.gz` or `zstd` skippable frames give)
//    decode as one body, as gunzip and zstd -d do. Any other bytes after the last one, a corrupt
//    stream and a stream that ends early are kBadRequest (400) naming what is wrong.
//  - An empty body decodes to an empty body whatever the coding, so the caller's own empty-body
//    rule applies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "error/result.h"

namespace intake::encoding {

enum class ContentCoding : std::uint8_t { kIdentity, kGzip, kZstd };

// Parses a Content-Encoding header value. Lets a handler refuse an unsupported coding (415)
// before it reads the body.
Result<ContentCoding> parse_content_encoding(std::string_view content_encoding);

// What the decoder did; for metrics and for tests that check a bomb was not inflated.
struct DecodeStats {
  std::size_t decoded_bytes = 0;  // bytes the decompressor produced; never more than the limit + 1
};

// Decodes `body` as `content_encoding` says. Returns nullopt when no decoding is needed
// ("" or "identity"), so the caller keeps using `body` without a copy; otherwise the decoded
// bytes, at most `max_decoded_bytes` of them. `stats`, if given, is filled in on success and failure.
Result<std::optional<std::string>> decode_content(std::string_view content_encoding, std::string_view body,
                                                  std::size_t max_decoded_bytes, DecodeStats* stats = nullptr);

// The same, for a coding already parsed with parse_content_encoding.
Result<std::optional<std::string>> decode_content(ContentCoding coding, std::string_view body,
                                                  std::size_t max_decoded_bytes, DecodeStats* stats = nullptr);

}  // namespace intake::encoding
