// The native produce endpoints.
//
// POST /v1/topics/{topic}: the raw body is one record's value; `X-Intake-Record-Key` sets the
// Kafka record key, `X-Intake-Partition` a partition. Async mode answers 202 {"accepted":1}
// once the producer (or the spool) owns the record; sync mode (topic policy,
// settings.default_mode, or `?sync=true` / `X-Intake-Sync: true`) answers 200
// {"topic","partition","offset"} once Kafka acknowledged it.
//
// POST /v1/topics/{topic}/records: NDJSON, one record per line, each an object
// {"value": <string, or any JSON written as is>, "key": "...", "partition": N}; key and
// partition are optional. Every line is checked before any record is produced (an error names
// the line); then all records are admitted at once against the key's rate. Answers 202
// {"accepted":N}. Async only. If the producer refuses record k midway (backpressure), records
// before k stay accepted and the error body says so: {"error":{..},"accepted":k}.
//
// The API key comes from `Authorization: Bearer` or `X-Intake-Key`. Records carry the
// configured request headers plus intake-key-id and intake-received-at (unix ms).
//
// Checks, in order, each cheaper than the next and none trusting what it has not verified:
// key (one SHA-256 + lookup) → topic name and rights → signature (signing keys only, over the
// whole body) → record size limits → rate limit → hand to the sink.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/store.h"
#include "http/router.h"
#include "kafka/record_sink.h"
#include "policy/signature.h"

namespace intake::api {

// The two routes ProduceHandler serves, exactly as they are registered with the router: the
// handler tells them apart by the route that matched (RouteParams::pattern), so a topic may be
// named `records` (POST /v1/topics/records is one record to topic `records`).
inline constexpr std::string_view kRecordRoute = "/v1/topics/{topic}";
inline constexpr std::string_view kBatchRoute = "/v1/topics/{topic}/records";

// At most this many request headers are copied into each Kafka record (kafka.copy_headers).
inline constexpr std::size_t kMaxCopiedHeaders = 16;

struct ProduceSettings {
  std::vector<std::string> copy_headers;  // request headers copied into record headers
  std::uint32_t sync_timeout_ms = 30'000;  // sync requests answer 504 after this
};

class ProduceHandler final : public http::Handler {
 public:
  // `store` and `sink` must outlive the handler. Serves both routes above (one replay cache);
  // registered for any other pattern it answers 500.
  ProduceHandler(const config::ConfigStore& store, kafka::RecordSink& sink, ProduceSettings settings = {})
      : store_(store), sink_(sink), settings_(std::move(settings)) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  // What the checks every produce request passes established.
  struct Admitted {
    std::shared_ptr<const config::Config> config;  // one snapshot for the whole request
    const config::ApiKey* key = nullptr;
    std::string_view topic;
    std::size_t max_record_bytes = 0;  // 0 = no limit
    config::DeliveryMode mode = config::DeliveryMode::kAsync;
    std::chrono::system_clock::time_point now;
  };
  // Record headers for every record of one request.
  struct Headers {
    std::array<kafka::RecordHeader, kMaxCopiedHeaders + 2> items;
    std::size_t count = 0;
    std::string received_at_ms;
  };

  // Completes one sync request from the producer's delivery report, then deletes itself.
  class SyncDelivery final : public kafka::DeliveryListener {
   public:
    SyncDelivery(std::shared_ptr<http::DeferredResponse> pending, std::string_view topic);
    void on_delivery(const kafka::DeliveryReport& report) override;

   private:
    std::shared_ptr<http::DeferredResponse> pending_;
    std::string topic_;
  };

  Result<Admitted> admit(const http::Request& request, const http::RouteParams& params);
  void fill_headers(const http::Request& request, const Admitted& admitted, Headers& headers) const;
  http::Response handle_one(const http::Request& request, Admitted admitted);
  http::Response handle_batch(const http::Request& request, Admitted admitted);

  // `?sync=true|false` or `X-Intake-Sync: true|false`; nullopt when the request does not say.
  static Result<std::optional<bool>> requested_sync(const http::Request& request);
  // `X-Intake-Partition: N`, or -1.
  static Result<std::int32_t> requested_partition(const http::Request& request);

  const config::ConfigStore& store_;
  kafka::RecordSink& sink_;
  ProduceSettings settings_;
  policy::ReplayCache replays_;  // signatures already accepted, for signing keys
};

}  // namespace intake::api
