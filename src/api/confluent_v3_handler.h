// Confluent REST Proxy v3 produce, for clients written against it:
//   POST /v3/clusters/{cluster_id}/topics/{topic_name}/records        one record per body
//   POST /v3/clusters/{cluster_id}/topics/{topic_name}/records:batch  {"entries":[...]}
// with Content-Type application/json (assumed when absent; anything else is 415). Bodies:
// api/confluent_v3_body.h.
//
// The cluster id in the path must be the gateway's: confluent.cluster_id when configured,
// else the Kafka cluster's own id as the producer last read it (503 kafka_unavailable until a
// broker has told it); any other id is 404 cluster_not_found.
//
// Always sync. One record: 200 {"error_code":200,"cluster_id":…,"topic_name":…,
// "partition_id":p,"offset":o,"timestamp":"…Z","key":{"type":"BINARY","size":n}|null,
// "value":{"type":…,"size":n}} once Kafka acknowledged it, or its error in v3 form
// {"error_code":<HTTP status>,"message":…,"code":…} (api/confluent_errors.h). A batch: 207
// {"successes":[{"id":…, the same members}],"failures":[{"id":…,"error_code":<HTTP
// status>,"message":…,"code":…}]} in entry order, once Kafka has spoken for every entry; an
// entry that does not decode refuses the whole request (400 naming the entry) before any is
// produced, as the native batch route does.
// Streaming: a chunked body to .../records may hold several records one after another
// (`{...}{...}` or one per line); each is produced as soon as it is complete and answered by
// one report line ({"error_code":200,...} or {"error_code":<status>,"message":...}) in record
// order, as Kafka acknowledges it, while the client is still sending: a `200` chunked answer
// that ends once the body ended and every record has its report. A stream from a signing key,
// or a compressed one, is read whole instead (one record; the signature needs the whole body).
// The same key, rights, signature, limits and rate as the native routes (api/produce_gate.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/produce_route.h"

namespace intake::api {

inline constexpr std::string_view kConfluentV3RecordsRoute = "/v3/clusters/{cluster_id}/topics/{topic_name}/records";
inline constexpr std::string_view kConfluentV3BatchRoute =
    "/v3/clusters/{cluster_id}/topics/{topic_name}/records:batch";

// Which cluster id the routes answer for.
struct ConfluentV3Cluster {
  std::string configured;  // confluent.cluster_id; when set, the only id served
  // Else Kafka's cluster id, empty while unknown. Called per request: must not block.
  std::function<std::string()> kafka_cluster_id;
};

class ConfluentV3Handler final : public ProduceRoute {
 public:
  // `gate` must outlive the handler.
  ConfluentV3Handler(ProduceGate& gate, ConfluentV3Cluster cluster)
      : ProduceRoute(gate), cluster_(std::move(cluster)) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;
  // A chunked body to .../records is a stream of records, answered record by record.
  std::unique_ptr<http::BodyStream> open_stream(const http::Request& request, const http::RouteParams& params,
                                                const std::shared_ptr<http::StreamOutput>& output) override;

 protected:
  std::string_view topic_of(const http::RouteParams& params) const override { return params[1]; }
  http::Response render_error(const Error& error) const override;

 private:
  // The id requests must name, or kafka_unavailable while Kafka's is not known yet.
  Result<std::string> served_cluster_id() const;
  // Everything after admission; its answer goes through ProduceGate::answer().
  http::Response produce(const http::Request& request, const http::RouteParams& params, const AdmittedRequest& admitted,
                         std::string cluster);

  ConfluentV3Cluster cluster_;
};

}  // namespace intake::api
