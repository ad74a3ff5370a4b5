// POST /v1/topics/{topic}/records: NDJSON, one record per line (api/ndjson_decoder.h). Every
// line is checked before any record is produced (an error names the line); then all records
// are admitted at once against the key's rate. Answers 202 {"accepted":N}. Async only. If the
// producer refuses record k midway (backpressure), records before k stay accepted and the
// error body says so: {"error":{..},"accepted":k}. Authentication and the other checks every
// produce request passes: api/produce_gate.h.
#pragma once

#include <optional>
#include <string_view>

#include "api/produce_gate.h"
#include "http/router.h"

namespace intake::api {

// The route this handler is registered for; its one capture is the topic. A topic may be
// named `records`: POST /v1/topics/records is one record to topic `records` (kRecordRoute).
inline constexpr std::string_view kBatchRoute = "/v1/topics/{topic}/records";

class BatchHandler final : public http::Handler {
 public:
  // `gate` must outlive the handler.
  explicit BatchHandler(ProduceGate& gate) : gate_(gate) {}

  std::optional<http::Response> check_headers(const http::Request& request, const http::RouteParams& params) override;
  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  ProduceGate& gate_;
};

}  // namespace intake::api
