// POST /v1/topics/{topic}/records: NDJSON, one record per line (api/ndjson_decoder.h). Every
// line is checked before any record is produced (an error names the line); then all records
// are admitted at once against the key's rate. Answers 202 {"accepted":N}. Async only. If the
// producer refuses record k midway (backpressure), records before k stay accepted and the
// error body says so: {"error":{..},"accepted":k}. Authentication and the other checks every
// produce request passes: api/produce_gate.h.
#pragma once

#include <string_view>

#include "api/produce_route.h"

namespace intake::api {

// The route this handler is registered for; its one capture is the topic. A topic may be
// named `records`: POST /v1/topics/records is one record to topic `records` (kRecordRoute).
inline constexpr std::string_view kBatchRoute = "/v1/topics/{topic}/records";

class BatchHandler final : public ProduceRoute {
 public:
  using ProduceRoute::ProduceRoute;

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;
};

}  // namespace intake::api
