#include "ops/health_handler.h"

namespace intake::ops {

http::Response HealthHandler::handle(const http::Request& /*request*/, const http::RouteParams& /*params*/) {
  if (probe_ == Probe::kLiveness) return http::json_response(200, R"({"status":"ok"})");
  if (draining_.load(std::memory_order_relaxed)) {
    return http::error_response({ErrorCode::kShuttingDown, "the gateway is draining before shutdown"});
  }
  if (!sink_.ready()) {
    return http::error_response({ErrorCode::kKafkaUnavailable, "no Kafka broker is reachable"});
  }
  return http::json_response(200, R"({"status":"ready"})");
}

}  // namespace intake::ops
