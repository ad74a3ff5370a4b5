// POST /v1/topics/{topic}: the raw body is one record's value; `X-Intake-Record-Key` sets the
// Kafka record key, `X-Intake-Partition` a partition. Async mode answers 202 {"accepted":1}
// once the producer (or the spool) owns the record; sync mode (topic policy,
// settings.default_mode, or `?sync=true` / `X-Intake-Sync: true`) answers 200
// {"topic","partition","offset"} once Kafka acknowledged it. Authentication and the other
// checks every produce request passes: api/produce_gate.h.
#pragma once

#include <string_view>

#include "api/produce_route.h"

namespace intake::api {

// The route this handler is registered for; its one capture is the topic.
inline constexpr std::string_view kRecordRoute = "/v1/topics/{topic}";

class SingleRecordHandler final : public ProduceRoute {
 public:
  using ProduceRoute::ProduceRoute;

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  // Everything after admission; its answer goes through ProduceGate::answer().
  http::Response produce(const http::Request& request, const AdmittedRequest& admitted);
};

}  // namespace intake::api
