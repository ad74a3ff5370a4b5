// The record size limit a produce request is held to: the topic's own max_record_bytes, else
// the registry's settings. Both produce routes check it with the same message.
#pragma once

#include <cstddef>
#include <string_view>

#include "error/result.h"

namespace intake::api {

struct RecordLimit {
  std::string_view topic;     // named in the message
  std::size_t max_bytes = 0;  // 0 = no limit

  // Returns payload_too_large iff a record of `size` bytes is over the limit. `where` starts
  // the message (e.g. "line 3: "), so a batch can say which record it was.
  Result<void> check(std::size_t size, std::string_view where = {}) const;
};

}  // namespace intake::api
