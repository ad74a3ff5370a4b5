#include "api/record_limit.h"

#include <string>

namespace intake::api {

Result<void> RecordLimit::check(std::size_t size, std::string_view where) const {
  if (max_bytes == 0 || size <= max_bytes) return {};
  return Error{ErrorCode::kPayloadTooLarge, std::string(where) + "the record has " + std::to_string(size) +
                                                " bytes; topic '" + std::string(topic) + "' accepts at most " +
                                                std::to_string(max_bytes)};
}

}  // namespace intake::api
