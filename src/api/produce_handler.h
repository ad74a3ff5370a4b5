// POST /v1/topics/{topic}: the native endpoint. The raw body is one record's value; the API
// key comes from `Authorization: Bearer` or `X-Intake-Key`; `X-Intake-Record-Key` sets the
// Kafka record key. Answers 202 {"accepted":1} once the producer owns the record.
//
// Checks, in order, each cheaper than the next and none trusting what it has not verified:
// key (one SHA-256 + lookup) → topic name and rights → signature (signing keys only) →
// record size limits → rate limit → hand to the producer.
#pragma once

#include "config/store.h"
#include "http/router.h"
#include "kafka/record_sink.h"
#include "policy/signature.h"

namespace intake::api {

class ProduceHandler final : public http::Handler {
 public:
  // Both must outlive the handler.
  ProduceHandler(const config::ConfigStore& store, kafka::RecordSink& sink) : store_(store), sink_(sink) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  const config::ConfigStore& store_;
  kafka::RecordSink& sink_;
  policy::ReplayCache replays_;  // signatures already accepted, for signing keys
};

}  // namespace intake::api
