#include "policy/topic_name.h"

namespace intake::policy {

std::string_view topic_name_problem(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name.size() > kMaxTopicNameLength) return "topic name is longer than 249 characters";
  if (name == "." || name == "..") return "topic name cannot be '.' or '..'";
  for (char c : name) {
    if (!is_topic_char(c)) return "topic name may contain only a-z A-Z 0-9 . _ -";
  }
  return {};
}

}  // namespace intake::policy
