// Content-Type matching for routes that read more than one body format: the media type
// without its parameters (`; charset=utf-8`), compared case-insensitively as RFC 9110 says.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "error/result.h"

namespace intake::http {

// The header's media type: up to the first ';', without surrounding spaces and tabs.
std::string_view media_type(std::string_view content_type);

// True iff the header's media type is `type` (lower case), ignoring case and parameters.
bool media_type_is(std::string_view content_type, std::string_view type);

// The index in `accepted` (lower-case types) of the header's media type. An absent header is
// index `if_absent` when that is given. Else unsupported_media_type listing what is accepted.
Result<std::size_t> match_media_type(std::string_view content_type, std::initializer_list<std::string_view> accepted,
                                     std::optional<std::size_t> if_absent);

}  // namespace intake::http
