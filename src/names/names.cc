#include "names/key_id.h"
#include "names/topic_glob.h"
#include "names/topic_name.h"

namespace intake::names {

Result<void> check_key_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdLength) {
    return make_error(ErrorCode::kInvalidConfig, "key id must be 1 to 128 characters");
  }
  for (char c : id) {
    // The alphabet of Kafka topic names: safe in a registry path, a log line and a label.
    if (!is_topic_char(c)) return make_error(ErrorCode::kInvalidConfig, "key id may contain only a-z A-Z 0-9 . _ -");
  }
  return {};
}

Result<void> check_topic_name(std::string_view name) {
  auto refuse = [](const char* what) { return make_error(ErrorCode::kInvalidTopic, what); };
  if (name.empty()) return refuse("topic name is empty");
  if (name.size() > kMaxTopicNameLength) return refuse("topic name is longer than 249 characters");
  if (name == "." || name == "..") return refuse("topic name cannot be '.' or '..'");
  for (char c : name) {
    if (!is_topic_char(c)) return refuse("topic name may contain only a-z A-Z 0-9 . _ -");
  }
  return {};
}

Result<void> check_topic_glob(std::string_view pattern) {
  auto refuse = [](const char* what) { return make_error(ErrorCode::kInvalidConfig, what); };
  if (pattern.empty()) return refuse("pattern is empty");
  if (pattern.size() > kMaxTopicNameLength) return refuse("pattern is longer than 249 characters");
  for (char c : pattern) {
    if (c == '*' || c == '?') continue;
    if (!is_topic_char(c)) return refuse("pattern may contain only a-z A-Z 0-9 . _ - and the wildcards * ?");
  }
  return {};
}

}  // namespace intake::names
