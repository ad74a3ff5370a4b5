// POST /v1/topics/{topic}/records: NDJSON or a JSON array of record objects
// (api/batch_decoder.h; Content-Type application/x-ndjson, application/json, ... or none).
// Every record is checked before any is produced (an error names the line or record). Then
// all records are admitted at once against the key's rate.
//
// Async (the default): 202 {"accepted":N}. If the producer refuses record k midway
// (backpressure), records before k stay accepted and the error body says so:
// {"error":{..},"accepted":k}.
// Sync (?sync=true, or the topic's mode): every record is produced, and the answer lists each
// record's partition and offset or error in body order — 200 all delivered, 207 some, else
// the first error's status (api/batch_delivery.h). Authentication and the other checks every
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

 private:
  // Everything after admission; its answer goes through ProduceGate::answer().
  http::Response produce(const http::Request& request, AdmittedRequest& admitted);
};

}  // namespace intake::api
