#include "http/request_head.h"

namespace intake::http {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view HeadFields::find(std::string_view name) const {
  for (std::size_t i = 0; i < head_.field_count; ++i) {
    if (equals_ignoring_case(head_.fields[i].name, name)) return head_.fields[i].value;
  }
  return {};
}

void HeadFields::for_each(const std::function<void(std::string_view name, std::string_view value)>& visit) const {
  for (std::size_t i = 0; i < head_.field_count; ++i) visit(head_.fields[i].name, head_.fields[i].value);
}

}  // namespace intake::http
