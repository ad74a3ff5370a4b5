// Kafka's rules for topic names, checked before a name reaches the producer.
#pragma once

#include <cstddef>
#include <string_view>

namespace intake::policy {

inline constexpr std::size_t kMaxTopicNameLength = 249;

constexpr bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Returns an empty string if `name` is a legal Kafka topic name, else what is wrong with it.
std::string_view topic_name_problem(std::string_view name);

}  // namespace intake::policy
