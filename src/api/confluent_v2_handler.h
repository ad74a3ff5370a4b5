// Confluent REST Proxy v2 produce, for clients written against it:
//   POST /topics/{topic}                         {"records":[{"key":…,"value":…,"partition":N}]}
//   POST /topics/{topic}/partitions/{partition}  {"records":[{"key":…,"value":…}]}
// with Content-Type application/vnd.kafka.json.v2+json (or application/json) or
// application/vnd.kafka.binary.v2+json (api/confluent_v2_body.h). Avro, Protobuf and JSON
// Schema bodies are refused with 422 (42201 when records carry keys, else 42202): Intake has
// no schema registry. Any Accept header is served; the answer is always
// application/vnd.kafka.v2+json.
//
// Always sync, as the proxy is: 200 {"key_schema_id":null,"value_schema_id":null,
// "offsets":[{"partition":p,"offset":o,"error_code":null,"error":null}, ...]} once Kafka has
// answered for every record, with a per-record error_code for the ones it refused. Unlike the
// proxy (200 with a per-record 50003 when Kafka is down), when no record was accepted the
// answer is the first error's own non-2xx status in v2 form: {"error_code":N,"message":…}.
// The same key, rights, signature, limits and rate as the native routes (api/produce_gate.h).
#pragma once

#include <string_view>

#include "api/produce_route.h"

namespace intake::api {

inline constexpr std::string_view kConfluentV2TopicRoute = "/topics/{topic}";
inline constexpr std::string_view kConfluentV2PartitionRoute = "/topics/{topic}/partitions/{partition}";

class ConfluentV2Handler final : public ProduceRoute {
 public:
  using ProduceRoute::ProduceRoute;

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 protected:
  http::Response render_error(const Error& error) const override;

 private:
  // Everything after admission; its answer goes through ProduceGate::answer().
  http::Response produce(const http::Request& request, const http::RouteParams& params,
                         const AdmittedRequest& admitted);
};

}  // namespace intake::api
