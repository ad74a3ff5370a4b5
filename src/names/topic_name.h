// Kafka's rules for topic names, checked before a name reaches the producer (request path) or
// a topic policy is accepted (config).
#pragma once

#include <cstddef>
#include <string_view>

#include "error/result.h"

namespace intake::names {

inline constexpr std::size_t kMaxTopicNameLength = 249;

constexpr bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

// OK if `name` is a legal Kafka topic name; else invalid_topic saying what is wrong with it.
// Allocates only when it refuses.
Result<void> check_topic_name(std::string_view name);

}  // namespace intake::names
