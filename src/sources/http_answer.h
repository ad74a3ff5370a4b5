// A registry's HTTP answer as the sources read it: status, body and headers. Apart from the
// client (sources/http_client.h) so that the decoders of answers need no networking code.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace intake::sources {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpAnswer {
  int status = 0;
  std::string body;
  HttpHeaders headers;
  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

}  // namespace intake::sources
