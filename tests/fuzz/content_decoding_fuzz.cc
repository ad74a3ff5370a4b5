// Request-body Content-Encoding (encoding/content_decoding.h) with a small decoded-size limit:
// arbitrary gzip and zstd streams, bombs and truncations must stop at the limit; the input
// itself, compressed by zlib or libzstd, must decode back to itself.
#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "encoding/content_decoding.h"
#include "fuzz_input.h"

namespace {

using namespace intake;

std::string gzip(std::string_view bytes) {
  z_stream stream{};
  FUZZ_CHECK(deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, bytes.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd(std::string_view bytes) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t written = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 1);
  FUZZ_CHECK(!ZSTD_isError(written));
  out.resize(written);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.take_byte();
  const std::size_t limit = (1 + std::size_t{input.take_byte()} % 32) * 1024;
  const std::string_view body = input.rest();

  switch (selector % 4) {
    case 0:
    case 1: {
      const auto coding = selector % 4 == 0 ? encoding::ContentCoding::kGzip : encoding::ContentCoding::kZstd;
      encoding::DecodeStats stats;
      auto decoded = encoding::decode_content(coding, body, limit, &stats);
      FUZZ_CHECK(stats.decoded_bytes <= limit + 1);
      if (decoded) {
        FUZZ_CHECK(decoded->has_value());
        FUZZ_CHECK(decoded.value()->size() <= limit);
        if (body.empty()) FUZZ_CHECK(decoded.value()->empty());
      }
      break;
    }
    case 2: {
      const bool use_gzip = (selector & 0x10) != 0;
      const std::string compressed = use_gzip ? gzip(body) : zstd(body);
      auto decoded = encoding::decode_content(use_gzip ? "gzip" : "zstd", compressed, limit);
      if (body.size() <= limit) {
        FUZZ_CHECK(decoded && decoded->has_value() && *decoded.value() == body);
      } else {
        FUZZ_CHECK(!decoded && decoded.error().code == ErrorCode::kPayloadTooLarge);
      }
      break;
    }
    case 3: {
      // The header value, then a body decoded as that header says.
      const std::string_view header = input.take_until('\n');
      auto coding = encoding::parse_content_encoding(header);
      auto decoded = encoding::decode_content(header, input.rest(), limit);
      FUZZ_CHECK(!coding || coding.value() != encoding::ContentCoding::kIdentity || (decoded && !decoded->has_value()));
      if (decoded && decoded->has_value()) FUZZ_CHECK(decoded.value()->size() <= limit);
      break;
    }
  }
  return 0;
}
