#include "ops/health_handler.h"

#include <string>

#include "json/writer.h"

namespace intake::ops {
namespace {

http::Response status_response(std::string_view status) {
  std::string body;
  json::Writer(body).begin_object().field("status", status).end_object();
  return http::json_response(200, std::move(body));
}

}  // namespace

http::Response HealthHandler::handle(const http::Request& /*request*/, const http::RouteParams& /*params*/) {
  if (probe_ == Probe::kLiveness) return status_response("ok");
  if (draining_.load(std::memory_order_relaxed)) {
    return http::error_response({ErrorCode::kShuttingDown, "the gateway is draining before shutdown"});
  }
  if (!sink_.ready()) {
    return http::error_response({ErrorCode::kKafkaUnavailable, "no Kafka broker is reachable"});
  }
  return status_response("ready");
}

}  // namespace intake::ops
