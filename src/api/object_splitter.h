// Finds where each JSON object ends in a stream of objects written one after another
// ({"a":1}{"b":2} or separated by white space), as bytes arrive — without parsing them: a
// scan that tracks nesting and strings, so each complete object can go to the real parser
// alone. Used by streaming requests, whose body is never whole in memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "error/result.h"

namespace intake::api {

class ObjectSplitter {
 public:
  // `max_object_bytes`: an object longer than this is an error (the stream cannot be
  // buffered without bound).
  explicit ObjectSplitter(std::size_t max_object_bytes) : max_object_bytes_(max_object_bytes) {}

  // Scans `buffer` from where the last call stopped. Returns the length of the first complete
  // object (leading white space included) once its closing brace is in; nullopt when more
  // bytes are needed. The caller removes that prefix from the buffer and calls again; the
  // scan restarts at the buffer's start. bad_request when the stream holds something other
  // than objects, or an object over the limit.
  Result<std::optional<std::size_t>> next(std::string_view buffer);

  // True when nothing but white space was seen since the last complete object.
  bool between_objects() const { return depth_ == 0; }

 private:
  std::size_t max_object_bytes_;
  std::size_t scanned_ = 0;  // bytes of the buffer already looked at
  std::size_t start_ = 0;    // where the current object's '{' is
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
};

}  // namespace intake::api
