#include "encoding/content_decoding.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <limits>
#include <memory>
#include <utility>

namespace intake::encoding {
namespace {

// The most output produced per decompressor call: bounds the overshoot past what is needed to
// tell that the limit is passed, and keeps resizes few for ordinary bodies.
constexpr std::size_t kOutputStepBytes = std::size_t{64} * 1024;
// RFC 8878 3.1.1.1.2: decoders should support windows up to 8 MiB; encoders stay within it.
constexpr int kZstdDefaultWindowLog = 23;
// libzstd's own default ceiling (ZSTD_WINDOWLOG_LIMIT_DEFAULT, outside its stable API): 128 MiB.
constexpr int kZstdMaxWindowLog = 27;

// At most this much of a client's header value is quoted back in an error.
constexpr std::size_t kQuotedValueBytes = 64;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool equals_ignore_case(std::string_view text, std::string_view lower) {
  return std::equal(text.begin(), text.end(), lower.begin(), lower.end(),
                    [](char a, char b) { return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b; });
}

std::string quoted(std::string_view value) {
  if (value.size() <= kQuotedValueBytes) return "'" + std::string(value) + "'";
  return "'" + std::string(value.substr(0, kQuotedValueBytes)) + "...'";
}

Error too_large(std::size_t max_decoded_bytes) {
  return Error{ErrorCode::kPayloadTooLarge, "the decompressed body is over " + std::to_string(max_decoded_bytes) +
                                                " bytes (server.max_body_bytes); send smaller batches"};
}

Error invalid(std::string_view coding, std::string_view why) {
  return Error{ErrorCode::kBadRequest, "the " + std::string(coding) + " body is not valid: " + std::string(why)};
}

// The decoded bytes so far, grown one bounded step at a time so it never passes limit + 1.
class Output {
 public:
  // One byte below SIZE_MAX at most, so that max_bytes + 1 is representable.
  explicit Output(std::size_t max_bytes)
      : max_bytes_(std::min(max_bytes, std::numeric_limits<std::size_t>::max() - 1)) {}

  // The room for the next step: at least 1 byte, and never so much that the total could pass
  // max_bytes + 1 (one byte over is how the limit is detected).
  // REQUIRES: !over_limit()
  std::pair<char*, std::size_t> next_step() {
    const std::size_t step = std::min(kOutputStepBytes, max_bytes_ + 1 - size_);
    bytes_.resize(size_ + step);
    return {bytes_.data() + size_, step};
  }
  void produced(std::size_t n) { size_ += n; }

  bool over_limit() const { return size_ > max_bytes_; }
  std::size_t size() const { return size_; }

  std::string take() && {
    bytes_.resize(size_);
    return std::move(bytes_);
  }

 private:
  std::size_t max_bytes_;
  std::size_t size_ = 0;
  std::string bytes_;
};

Result<void> inflate_gzip(std::string_view body, std::size_t max_decoded_bytes, Output& out) {
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer), not zlib's own.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return Error{ErrorCode::kInternal, "could not start a gzip decoder (out of memory)"};
  }
  const std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&stream, &inflateEnd);

  std::string_view rest = body;  // input not yet handed to zlib (avail_in is 32 bits)
  while (true) {
    if (stream.avail_in == 0 && !rest.empty()) {
      const std::size_t piece = std::min<std::size_t>(rest.size(), UINT_MAX);
      // zlib's API is not const-correct; it never writes through next_in.
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(rest.data()));
      stream.avail_in = static_cast<uInt>(piece);
      rest.remove_prefix(piece);
    }
    const auto [room, room_bytes] = out.next_step();
    stream.next_out = reinterpret_cast<Bytef*>(room);
    stream.avail_out = static_cast<uInt>(room_bytes);
    const int rc = inflate(&stream, Z_NO_FLUSH);
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
      return invalid("gzip", stream.msg != nullptr ? stream.msg : "the stream is corrupt");
    }
    if (rc == Z_MEM_ERROR) return Error{ErrorCode::kInternal, "the gzip decoder ran out of memory"};
    out.produced(room_bytes - stream.avail_out);
    if (out.over_limit()) return too_large(max_decoded_bytes);
    const bool input_done = stream.avail_in == 0 && rest.empty();
    if (rc == Z_STREAM_END) {
      if (input_done) return {};
      // Another member follows (RFC 1952 2.2): decode it onto the same output.
      if (inflateReset(&stream) != Z_OK) return invalid("gzip", "the stream is corrupt");
      continue;
    }
    // Z_OK with room left, or Z_BUF_ERROR (no progress possible): zlib wants input there is not.
    if (input_done && (stream.avail_out > 0 || rc == Z_BUF_ERROR)) {
      return invalid("gzip", "it ends before the gzip stream does (truncated body?)");
    }
  }
}

int zstd_window_log_max(std::size_t max_decoded_bytes) {
  // A window larger than the whole decoded body is never needed, and one up to the body's size
  // costs no more than the body itself.
  const int for_limit = static_cast<int>(std::bit_width(max_decoded_bytes));
  return std::clamp(for_limit, kZstdDefaultWindowLog, kZstdMaxWindowLog);
}

Result<void> decompress_zstd(std::string_view body, std::size_t max_decoded_bytes, Output& out) {
  const std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (context == nullptr) return Error{ErrorCode::kInternal, "could not start a zstd decoder (out of memory)"};
  const std::size_t set =
      ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax, zstd_window_log_max(max_decoded_bytes));
  if (ZSTD_isError(set)) return Error{ErrorCode::kInternal, std::string("zstd: ") + ZSTD_getErrorName(set)};

  ZSTD_inBuffer input{body.data(), body.size(), 0};
  std::size_t hint = 1;  // ZSTD_decompressStream's last return: 0 once a frame is fully decoded
  while (true) {
    const auto [room, room_bytes] = out.next_step();
    ZSTD_outBuffer output{room, room_bytes, 0};
    hint = ZSTD_decompressStream(context.get(), &output, &input);
    if (ZSTD_isError(hint)) {
      if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
        return invalid("zstd", "the frame needs a window over " +
                                   std::to_string(std::size_t{1} << zstd_window_log_max(max_decoded_bytes)) +
                                   " bytes; compress with a smaller window (e.g. without --long)");
      }
      return invalid("zstd", ZSTD_getErrorName(hint));
    }
    out.produced(output.pos);
    if (out.over_limit()) return too_large(max_decoded_bytes);
    // All input read and the output not filled: the decoder has flushed all it can. Following
    // frames, if any, were decoded in the same loop.
    if (input.pos == input.size && output.pos < output.size) break;
  }
  if (hint != 0) return invalid("zstd", "it ends before the zstd frame does (truncated body?)");
  return {};
}

}  // namespace

Result<ContentCoding> parse_content_encoding(std::string_view content_encoding) {
  const std::string_view value = trim(content_encoding);
  if (value.empty() || equals_ignore_case(value, "identity")) return ContentCoding::kIdentity;
  if (equals_ignore_case(value, "gzip") || equals_ignore_case(value, "x-gzip")) return ContentCoding::kGzip;
  if (equals_ignore_case(value, "zstd")) return ContentCoding::kZstd;
  if (value.find(',') != std::string_view::npos) {
    return Error{ErrorCode::kUnsupportedEncoding, "Content-Encoding " + quoted(value) +
                                                      " lists more than one coding; send the body with one of "
                                                      "gzip, zstd or identity"};
  }
  return Error{ErrorCode::kUnsupportedEncoding,
               "Content-Encoding " + quoted(value) + " is not supported; send gzip, zstd or identity"};
}

Result<std::optional<std::string>> decode_content(ContentCoding coding, std::string_view body,
                                                  std::size_t max_decoded_bytes, DecodeStats* stats) {
  if (stats != nullptr) *stats = DecodeStats{};
  if (coding == ContentCoding::kIdentity) return std::optional<std::string>{};
  if (body.empty()) return std::optional<std::string>{std::string{}};

  Output out(max_decoded_bytes);
  Result<void> done = coding == ContentCoding::kGzip ? inflate_gzip(body, max_decoded_bytes, out)
                                                     : decompress_zstd(body, max_decoded_bytes, out);
  if (stats != nullptr) stats->decoded_bytes = out.size();
  if (!done) return std::move(done).error();
  return std::optional<std::string>{std::move(out).take()};
}

Result<std::optional<std::string>> decode_content(std::string_view content_encoding, std::string_view body,
                                                  std::size_t max_decoded_bytes, DecodeStats* stats) {
  if (stats != nullptr) *stats = DecodeStats{};
  Result<ContentCoding> coding = parse_content_encoding(content_encoding);
  if (!coding) return std::move(coding).error();
  return decode_content(coding.value(), body, max_decoded_bytes, stats);
}

}  // namespace intake::encoding
