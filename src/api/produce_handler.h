// POST /v1/topics/{topic}: the native endpoint. The raw body is one record's value; the API
// key comes from `Authorization: Bearer` or `X-Intake-Key`; `X-Intake-Record-Key` sets the
// Kafka record key, `X-Intake-Partition` a partition. Async mode answers 202 {"accepted":1}
// once the producer owns the record; sync mode (topic policy, settings.default_mode, or
// `?sync=true` / `X-Intake-Sync: true`) answers 200 {"topic","partition","offset"} once Kafka
// acknowledged it. Records carry the configured request headers plus intake-key-id and
// intake-received-at (unix ms).
//
// Checks, in order, each cheaper than the next and none trusting what it has not verified:
// key (one SHA-256 + lookup) → topic name and rights → signature (signing keys only) →
// record size limits → rate limit → hand to the producer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/store.h"
#include "http/router.h"
#include "kafka/record_sink.h"
#include "policy/signature.h"

namespace intake::api {

// At most this many request headers are copied into each Kafka record (kafka.copy_headers).
inline constexpr std::size_t kMaxCopiedHeaders = 16;

struct ProduceSettings {
  std::vector<std::string> copy_headers;  // request headers copied into record headers
  std::uint32_t sync_timeout_ms = 30'000;  // sync requests answer 504 after this
};

class ProduceHandler final : public http::Handler {
 public:
  // `store` and `sink` must outlive the handler.
  ProduceHandler(const config::ConfigStore& store, kafka::RecordSink& sink, ProduceSettings settings = {})
      : store_(store), sink_(sink), settings_(std::move(settings)) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  // Completes one sync request from the producer's delivery report, then deletes itself.
  class SyncDelivery final : public kafka::DeliveryListener {
   public:
    SyncDelivery(std::shared_ptr<http::DeferredResponse> pending, std::string_view topic);
    void on_delivery(const kafka::DeliveryReport& report) override;

   private:
    std::shared_ptr<http::DeferredResponse> pending_;
    std::string topic_;
  };

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
