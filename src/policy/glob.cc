#include "policy/glob.h"

#include <cstddef>

#include "policy/topic_name.h"

namespace intake::policy {

// Iterative matcher with single-star backtracking: linear in practice, no recursion, no
// allocation. On mismatch after a `*`, retry with the star absorbing one more character.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view glob_problem(std::string_view pattern) {
  if (pattern.empty()) return "pattern is empty";
  if (pattern.size() > kMaxTopicNameLength) return "pattern is longer than 249 characters";
  for (char c : pattern) {
    if (c == '*' || c == '?') continue;
    if (!is_topic_char(c)) return "pattern may contain only a-z A-Z 0-9 . _ - and the wildcards * ?";
  }
  return {};
}

}  // namespace intake::policy
