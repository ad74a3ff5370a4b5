#include "sources/http_answer.h"

#include <boost/beast/core/string.hpp>

namespace intake::sources {

std::string_view HttpAnswer::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) return value;
  }
  return {};
}

}  // namespace intake::sources
