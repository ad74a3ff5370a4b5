#include "http/media_type.h"

#include <string>

namespace intake::http {

std::string_view media_type(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  return type;
}

bool media_type_is(std::string_view content_type, std::string_view type) {
  const std::string_view actual = media_type(content_type);
  if (actual.size() != type.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = actual[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != type[i]) return false;
  }
  return true;
}

Result<std::size_t> match_media_type(std::string_view content_type, std::initializer_list<std::string_view> accepted,
                                     std::optional<std::size_t> if_absent) {
  if (media_type(content_type).empty() && if_absent) return *if_absent;
  std::size_t index = 0;
  for (std::string_view type : accepted) {
    if (media_type_is(content_type, type)) return index;
    ++index;
  }
  std::string message =
      "Content-Type '" + std::string(media_type(content_type)) + "' is not accepted here; send one of: ";
  index = 0;
  for (std::string_view type : accepted) message.append(index++ ? ", " : "").append(type);
  return Error{ErrorCode::kUnsupportedMediaType, std::move(message)};
}

}  // namespace intake::http
