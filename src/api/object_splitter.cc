#include "api/object_splitter.h"

#include <string>

namespace intake::api {

Result<std::optional<std::size_t>> ObjectSplitter::next(std::string_view buffer) {
  // Nesting deeper than this is refused here rather than by the parser later.
  constexpr int kMaxDepth = 256;
  for (; scanned_ < buffer.size(); ++scanned_) {
    const char c = buffer[scanned_];
    if (depth_ == 0) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      if (c != '{') {
        return Error{ErrorCode::kBadRequest,
                     "the stream must be JSON objects one after another; found '" + std::string(1, c) + "'"};
      }
      start_ = scanned_;
      depth_ = 1;
      continue;
    }
    if (scanned_ - start_ >= max_object_bytes_) {
      return Error{ErrorCode::kPayloadTooLarge,
                   "a record in the stream is over " + std::to_string(max_object_bytes_) + " bytes"};
    }
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > kMaxDepth) return Error{ErrorCode::kBadRequest, "a record in the stream nests too deeply"};
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        const std::size_t length = scanned_ + 1;
        scanned_ = 0;
        start_ = 0;
        return std::optional<std::size_t>{length};
      }
    }
  }
  return std::optional<std::size_t>{};
}

}  // namespace intake::api
