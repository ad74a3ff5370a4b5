#include "ops/log_level_handler.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "json/writer.h"
#include "logging/structured.h"
#include "ops/admin_token.h"

namespace intake::ops {
namespace {

http::Response level_answer() {
  http::Response response;
  json::Writer json(response.body);
  json.begin_object().field("level", logging::level_name(spdlog::get_level())).end_object();
  return response;
}

const Error kBadLevel{ErrorCode::kBadRequest,
                      "send {\"level\":\"<level>\"} with one of trace, debug, info, warn, error, critical, off"};

}  // namespace

http::Response LogLevelHandler::handle(const http::Request& request, const http::RouteParams& /*params*/) {
  if (!token_sha256_) {
    return http::error_response({ErrorCode::kNotFound, "the admin API is off: set admin.token_sha256 in the YAML"});
  }
  if (auto refusal = refuse_without_admin_token(request, *token_sha256_)) return std::move(*refusal);
  if (request.method != http::Method::kPut) return level_answer();

  simdjson::dom::parser parser;
  simdjson::dom::element body;
  if (parser.parse(request.body.data(), request.body.size()).get(body) != simdjson::SUCCESS) {
    return http::error_response(kBadLevel);
  }
  std::string_view text;
  if (body["level"].get_string().get(text) != simdjson::SUCCESS) return http::error_response(kBadLevel);
  const auto level = logging::parse_level(text);
  if (!level) return http::error_response(kBadLevel);
  const auto before = spdlog::get_level();
  // The line must show under the new level: written at warn, or at the new level when that is
  // error or critical; a change to off is written before it applies, at critical.
  const auto line_level = std::max(spdlog::level::warn, std::min(*level, spdlog::level::critical));
  const auto note = [&] {
    spdlog::log(line_level, "admin: log level {} → {} (PUT /admin/log-level)", logging::level_name(before),
                logging::level_name(*level));
  };
  if (*level == spdlog::level::off) note();
  spdlog::set_level(*level);
  if (*level != spdlog::level::off) note();
  return level_answer();
}

}  // namespace intake::ops
