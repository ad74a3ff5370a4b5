// Standard base64 (RFC 4648, with padding), as Consul and etcd encode keys and values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace intake::encoding {

// Returns nullopt for characters outside the alphabet or a bad length/padding.
std::optional<std::string> base64_decode(std::string_view text);

std::string base64_encode(std::string_view bytes);

}  // namespace intake::encoding
