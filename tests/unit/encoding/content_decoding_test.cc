#include "encoding/content_decoding.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>

namespace intake::encoding {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// `copies` times `chunk`, gzip-compressed, fed in pieces so a bomb never exists uncompressed.
std::string gzip(std::string_view chunk, std::size_t copies = 1, int level = Z_DEFAULT_COMPRESSION) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  char buffer[64 * 1024];
  for (std::size_t i = 0; i < copies; ++i) {
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    stream.avail_in = static_cast<uInt>(chunk.size());
    const int flush = i + 1 == copies ? Z_FINISH : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      stream.next_out = reinterpret_cast<Bytef*>(buffer);
      stream.avail_out = sizeof buffer;
      rc = deflate(&stream, flush);
      out.append(buffer, sizeof buffer - stream.avail_out);
    } while (stream.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&stream);
  return out;
}

// The same for zstd. `window_log` 0 = the level's default; a streamed frame (no size up front)
// keeps the window it was given.
std::string zstd(std::string_view chunk, std::size_t copies = 1, int window_log = 0) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3);
  if (window_log != 0) ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, window_log);
  std::string out;
  std::string buffer(ZSTD_CStreamOutSize(), '\0');
  for (std::size_t i = 0; i <= copies; ++i) {
    // The last round only ends the frame, so the compressor never learns the size.
    ZSTD_inBuffer input{chunk.data(), i < copies ? chunk.size() : 0, 0};
    const ZSTD_EndDirective mode = i < copies ? ZSTD_e_continue : ZSTD_e_end;
    std::size_t remaining = 0;
    do {
      ZSTD_outBuffer output{buffer.data(), buffer.size(), 0};
      remaining = ZSTD_compressStream2(context, &output, &input, mode);
      EXPECT_FALSE(ZSTD_isError(remaining)) << ZSTD_getErrorName(remaining);
      out.append(buffer.data(), output.pos);
    } while (mode == ZSTD_e_end ? remaining != 0 : input.pos < input.size);
  }
  ZSTD_freeCCtx(context);
  return out;
}

// Text that compresses but not to nothing, longer than one 64 KiB output step.
std::string sample_text(std::size_t bytes) {
  std::string text;
  std::uint32_t state = 12345;
  while (text.size() < bytes) {
    state = state * 1103515245 + 12345;
    text += "{\"value\":" + std::to_string(state % 100000) + "}\n";
  }
  text.resize(bytes);
  return text;
}

TEST(ContentDecoding, IdentityAndNoHeaderNeedNoDecoding) {
  for (const std::string_view coding : {"", "identity", " Identity\t", "IDENTITY"}) {
    const auto decoded = decode_content(coding, "body", kMiB);
    ASSERT_TRUE(decoded) << coding;
    EXPECT_FALSE(decoded.value().has_value()) << coding;
  }
}

TEST(ContentDecoding, RoundTripsGzipAndXGzip) {
  const std::string text = sample_text(300 * 1024);
  const std::string body = gzip(text);
  for (const std::string_view coding : {"gzip", "x-gzip"}) {
    const auto decoded = decode_content(coding, body, kMiB);
    ASSERT_TRUE(decoded) << decoded.error().message;
    ASSERT_TRUE(decoded.value().has_value());
    EXPECT_EQ(*decoded.value(), text);
  }
}

TEST(ContentDecoding, RoundTripsZstd) {
  const std::string text = sample_text(300 * 1024);
  DecodeStats stats;
  const auto decoded = decode_content("zstd", zstd(text), kMiB, &stats);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_TRUE(decoded.value().has_value());
  EXPECT_EQ(*decoded.value(), text);
  EXPECT_EQ(stats.decoded_bytes, text.size());
}

TEST(ContentDecoding, MatchesCodingCaseInsensitivelyIgnoringSurroundingSpace) {
  const std::string text = sample_text(1000);
  const auto gz = decode_content(" GZIP\t", gzip(text), kMiB);
  ASSERT_TRUE(gz) << gz.error().message;
  EXPECT_EQ(*gz.value(), text);
  const auto zs = decode_content("Zstd ", zstd(text), kMiB);
  ASSERT_TRUE(zs) << zs.error().message;
  EXPECT_EQ(*zs.value(), text);
}

TEST(ContentDecoding, RefusesUnknownCodingWith415) {
  const auto decoded = decode_content("br", "whatever", kMiB);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupportedEncoding);
  EXPECT_EQ(error_http_status(decoded.error().code), 415);
  EXPECT_EQ(decoded.error().message, "Content-Encoding 'br' is not supported; send gzip, zstd or identity");
  EXPECT_EQ(parse_content_encoding("deflate").error().code, ErrorCode::kUnsupportedEncoding);
}

TEST(ContentDecoding, RefusesAListOfCodings) {
  const auto decoded = decode_content("gzip, zstd", "whatever", kMiB);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupportedEncoding);
  EXPECT_NE(decoded.error().message.find("more than one coding"), std::string::npos) << decoded.error().message;
}

TEST(ContentDecoding, RefusesCorruptBodyWith400) {
  std::string gz = gzip(sample_text(10000));
  gz[gz.size() / 2] = static_cast<char>(gz[gz.size() / 2] ^ 0xff);
  gz[gz.size() / 2 + 1] = static_cast<char>(gz[gz.size() / 2 + 1] ^ 0xff);
  const auto bad_gzip = decode_content("gzip", gz, kMiB);
  ASSERT_FALSE(bad_gzip);
  EXPECT_EQ(bad_gzip.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(bad_gzip.error().message.rfind("the gzip body is not valid: ", 0), 0) << bad_gzip.error().message;

  const auto not_gzip = decode_content("gzip", "plain text, not gzip", kMiB);
  ASSERT_FALSE(not_gzip);
  EXPECT_EQ(not_gzip.error().code, ErrorCode::kBadRequest);

  const auto not_zstd = decode_content("zstd", "plain text, not zstd", kMiB);
  ASSERT_FALSE(not_zstd);
  EXPECT_EQ(not_zstd.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(not_zstd.error().message.rfind("the zstd body is not valid: ", 0), 0) << not_zstd.error().message;
}

TEST(ContentDecoding, RefusesTruncatedBodyWith400) {
  const std::string text = sample_text(100000);
  for (const auto& [coding, body] : {std::pair{"gzip", gzip(text)}, std::pair{"zstd", zstd(text)}}) {
    for (const std::size_t cut : {std::size_t{1}, std::size_t{4}, body.size() / 2}) {
      const auto decoded = decode_content(coding, std::string_view(body).substr(0, body.size() - cut), kMiB);
      ASSERT_FALSE(decoded) << coding << " cut " << cut;
      EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << coding << " cut " << cut;
    }
  }
}

TEST(ContentDecoding, DecodesConcatenatedMembersAndFramesAsOneBody) {
  const auto gz = decode_content("gzip", gzip("first\n") + gzip("second\n"), kMiB);
  ASSERT_TRUE(gz) << gz.error().message;
  EXPECT_EQ(*gz.value(), "first\nsecond\n");
  const auto zs = decode_content("zstd", zstd("first\n") + zstd("second\n"), kMiB);
  ASSERT_TRUE(zs) << zs.error().message;
  EXPECT_EQ(*zs.value(), "first\nsecond\n");
}

TEST(ContentDecoding, RefusesTrailingGarbageWith400) {
  for (const auto& [coding, body] : {std::pair{"gzip", gzip("records\n")}, std::pair{"zstd", zstd("records\n")}}) {
    const auto decoded = decode_content(coding, body + "trailing junk", kMiB);
    ASSERT_FALSE(decoded) << coding;
    EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest) << coding;
  }
}

TEST(ContentDecoding, EmptyBodyDecodesToEmpty) {
  for (const std::string_view coding : {"gzip", "zstd"}) {
    const auto decoded = decode_content(coding, "", kMiB);
    ASSERT_TRUE(decoded) << coding;
    ASSERT_TRUE(decoded.value().has_value());
    EXPECT_TRUE(decoded.value()->empty());
  }
}

TEST(ContentDecoding, AcceptsExactlyTheLimitAndRefusesOneByteMore) {
  const std::size_t limit = 200 * 1024 + 7;  // not a multiple of the output step
  const std::string at_limit = sample_text(limit);
  const std::string over_limit = sample_text(limit + 1);
  for (const std::string_view coding : {"gzip", "zstd"}) {
    const auto encode = [&](const std::string& text) { return coding == "gzip" ? gzip(text) : zstd(text); };
    DecodeStats stats;
    const auto fits = decode_content(coding, encode(at_limit), limit, &stats);
    ASSERT_TRUE(fits) << coding << ": " << fits.error().message;
    EXPECT_EQ(fits.value()->size(), limit);
    EXPECT_EQ(stats.decoded_bytes, limit);

    const auto over = decode_content(coding, encode(over_limit), limit, &stats);
    ASSERT_FALSE(over) << coding;
    EXPECT_EQ(over.error().code, ErrorCode::kPayloadTooLarge);
    EXPECT_EQ(stats.decoded_bytes, limit + 1);
  }
}

TEST(ContentDecoding, StopsABombAtTheLimitWithoutInflatingIt) {
  const std::string zeros(kMiB, '\0');
  const std::size_t copies = 64;  // 64 MiB decoded
  for (const std::string_view coding : {"gzip", "zstd"}) {
    const std::string bomb = coding == "gzip" ? gzip(zeros, copies, Z_BEST_COMPRESSION) : zstd(zeros, copies);
    ASSERT_LT(bomb.size(), copies * kMiB / 1000) << coding;  // a 1000x bomb at least
    DecodeStats stats;
    const auto decoded = decode_content(coding, bomb, kMiB, &stats);
    ASSERT_FALSE(decoded) << coding;
    EXPECT_EQ(decoded.error().code, ErrorCode::kPayloadTooLarge);
    EXPECT_EQ(error_http_status(decoded.error().code), 413);
    EXPECT_EQ(decoded.error().message,
              "the decompressed body is over 1048576 bytes (server.max_body_bytes); send smaller batches");
    EXPECT_EQ(stats.decoded_bytes, kMiB + 1) << coding;  // stopped one byte past the limit
  }
}

TEST(ContentDecoding, RefusesAZstdWindowLargerThanNeeded) {
  // A 16 MiB window for a 1 KiB body: the decoder would allocate the window, not the body.
  const auto decoded = decode_content("zstd", zstd(sample_text(1024), 1, 24), kMiB);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(decoded.error().message.find("window"), std::string::npos) << decoded.error().message;
  // The same window is fine when the limit allows a body that large.
  const auto allowed = decode_content("zstd", zstd(sample_text(1024), 1, 24), 32 * kMiB);
  ASSERT_TRUE(allowed) << allowed.error().message;
}

}  // namespace
}  // namespace intake::encoding
