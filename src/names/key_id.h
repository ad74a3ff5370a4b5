// API key ids: the name a key has in every registry (`keys/<id>`) and in logs, so it must be
// safe to print and to put in a path.
#pragma once

#include <string_view>

#include "error/result.h"

namespace intake::names {

inline constexpr std::size_t kMaxKeyIdLength = 128;

// OK if `id` is a usable API key id; else invalid_config saying what is wrong with it.
Result<void> check_key_id(std::string_view id);

}  // namespace intake::names
