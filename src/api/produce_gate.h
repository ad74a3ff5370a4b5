// What the two native produce routes share (api/single_record_handler.h,
// api/batch_handler.h): the checks a request passes before any record of it is produced, the
// headers every record carries, the rate check, the sink, Kafka's answer for sync requests and
// the 202 answer. One gate serves both routes, so a signature accepted on one is a replay on
// the other.
//
// The API key comes from `Authorization: Bearer`, `Authorization: Basic` (key id:secret, as
// Confluent clients send it) or `X-Intake-Key`. Records carry the configured request headers
// plus intake-key-id and intake-received-at (unix ms), and intake-idempotency-key when the
// request sent an Idempotency-Key.
//
// Checks, in order, each cheaper than the next and none trusting what it has not verified:
// key (one SHA-256, cached per thread, + lookup) → topic name and rights → signature (signing
// keys only, over the whole body) → then, in the route's handler, record size limits → rate
// limit → hand to the sink.
//
// A signed request's replay entry (policy/replay_cache.h) is reserved by admit() and held in
// AdmittedRequest::replay; every route hands its answer through ProduceGate::answer(), which
// commits the entry when the request was accepted (2xx, or a deferred answer that turns out
// 2xx) and releases it otherwise, so a retry after 429 / 503 / a later 4xx passes.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/accepted_by_topic.h"
#include "api/record_limit.h"
#include "config/store.h"
#include "http/message.h"
#include "kafka/record_sink.h"
#include "policy/rate_limiter.h"
#include "policy/signature.h"

namespace intake::api {

// At most this many request headers are copied into each Kafka record (kafka.copy_headers).
inline constexpr std::size_t kMaxCopiedHeaders = 16;

struct ProduceSettings {
  std::vector<std::string> copy_headers;   // request headers copied into record headers
  std::uint32_t sync_timeout_ms = 30'000;  // sync requests answer 504 after this
  // A compressed body may decode to at most this much (server.max_body_bytes).
  std::size_t max_decoded_body_bytes = std::size_t{1024} * 1024;
  // What the signed requests' replay entries may use (signing.replay_cache_max_bytes).
  std::size_t replay_cache_max_bytes = std::size_t{32} << 20;
  // Topics counted by name in /metrics (metrics.topics globs, at most metrics.max_topics);
  // the rest count as "_other" (api/accepted_by_topic.h).
  std::vector<std::string> metric_topics{};
  std::size_t metric_max_topics = 50;
};

// What the checks every produce request passes established. Valid only while the request is
// handled: `config` is this thread's snapshot (ConfigStore::current_for_request), and `key`
// points into it.
struct AdmittedRequest {
  const config::Config* config = nullptr;  // one snapshot for the whole request
  const config::ApiKey* key = nullptr;
  std::string_view topic;
  RecordLimit limit;
  config::DeliveryMode mode = config::DeliveryMode::kAsync;
  std::chrono::system_clock::time_point now;
  // Set by admit_stream(): the snapshot `config` and `key` point into, held for the stream's life.
  std::shared_ptr<const config::Config> pinned;
  std::string_view wire_body;          // the body as sent
  std::optional<std::string> decoded;  // the body decompressed (Content-Encoding gzip / zstd)
  // A signing key's request: its replay entry, reserved; ProduceGate::answer() settles it, and
  // it is released if the request ends without an answer that accepted it.
  policy::ReplayReservation replay;

  // The records' bytes: the decoded body, or the body as sent when it was not compressed.
  std::string_view body() const { return decoded ? std::string_view(*decoded) : wire_body; }
};

// Record headers for every record of one request; `items` may point into `received_at_ms`.
// The copied headers, then intake-key-id, intake-received-at and intake-idempotency-key.
struct RecordHeaders {
  std::array<kafka::RecordHeader, kMaxCopiedHeaders + 3> items;
  std::size_t count = 0;
  std::string received_at_ms;

  std::span<const kafka::RecordHeader> view() const { return {items.data(), count}; }
};

class ProduceGate {
 public:
  // `store`, `limiter` and `sink` must outlive the gate.
  ProduceGate(const config::ConfigStore& store, const policy::RateLimiter& limiter, kafka::RecordSink& sink,
              ProduceSettings settings = {})
      : store_(store),
        limiter_(limiter),
        sink_(sink),
        settings_(std::move(settings)),
        replays_(std::make_shared<policy::ReplayCache>(settings_.replay_cache_max_bytes)),
        accepted_(settings_.metric_topics, settings_.metric_max_topics) {}

  // Authenticates the request, checks `topic` and the key's rights to it and the signature,
  // and settles the record limit and delivery mode (the topic's policy, else the registry's
  // settings, overridden by `?sync=` / `X-Intake-Sync`). A body with Content-Encoding gzip or
  // zstd is decompressed (after the signature is checked over the bytes as sent), under
  // max_decoded_body_bytes. The body must not be empty.
  Result<AdmittedRequest> admit(const http::Request& request, std::string_view topic);

  // What admit() can decide from the headers alone — the key, the topic and the key's rights
  // to it, the sync flag, the Content-Encoding — for Handler::check_headers, before the body
  // is read.
  Result<void> check_headers(const http::Request& request, std::string_view topic) const;

  // The id of the API key the request presents, or nullopt if it does not authenticate: who
  // is calling, for state kept per caller (api/idempotent_handler.h).
  std::optional<std::string> caller_key_id(const http::Request& request) const;

  // admit() for a request served as a stream (http/body_stream.h), before any body byte: the
  // same checks but the signature and the body's, with a snapshot of its own (`pinned`) that
  // stays valid while the stream runs. A signing key or a Content-Encoding is refused — the
  // caller then reads the body whole and admit() checks the signature over it.
  Result<AdmittedRequest> admit_stream(const http::Request& request, std::string_view topic) const;

  // Takes `records` records of `bytes` value bytes in total from the key's rate, if it has one.
  Result<void> admit_rate(const AdmittedRequest& admitted, std::size_t records, std::size_t bytes) const;

  // Fills `headers` (which must outlive every record that uses them) for the records of one request.
  void fill_headers(const http::Request& request, const AdmittedRequest& admitted, RecordHeaders& headers) const;

  // Async: hands the record on; success means the producer (or the spool) owns it. Every
  // record any route accepts passes here or through produce_and_wait(), which count it.
  Result<void> enqueue(const kafka::OutgoingRecord& record) {
    auto enqueued = sink_.enqueue(record);
    if (enqueued) accepted_.count(record.topic, record.value.size());
    return enqueued;
  }

  // Sync: hands the record on and answers once Kafka acknowledged it, 200
  // {"topic","partition","offset"}, or refused it (the error); 504 after sync_timeout_ms.
  // REQUIRES: record.listener == nullptr.
  http::Response produce_and_wait(kafka::OutgoingRecord record);

  // The answer to an admitted request, passed through: settles admitted.replay from it —
  // committed if `response` is 2xx, released otherwise; for a deferred answer, once it is
  // known (a 504 the server gives while Kafka is still silent settles nothing: the record may
  // yet be delivered). A route that took some records before a refusal commits
  // admitted.replay itself first.
  static http::Response answer(AdmittedRequest& admitted, http::Response response);

  // The replay cache's counters, for /metrics.
  const policy::ReplayStats& replay_stats() const { return replays_->stats(); }
  // Records and bytes accepted by topic, for /metrics.
  const AcceptedByTopic& accepted() const { return accepted_; }

  // How long a sync request waits for Kafka before the server answers 504.
  std::uint32_t sync_timeout_ms() const { return settings_.sync_timeout_ms; }

 private:
  // `config`: the snapshot to check against (admitted.config), this thread's when null.
  Result<void> admit_identity(const http::Request& request, std::string_view topic, AdmittedRequest& admitted,
                              const config::Config* config = nullptr) const;
  static Result<const config::ApiKey*> authenticate(const http::Request& request, const config::Config& config,
                                                    std::chrono::system_clock::time_point now);
  // The record limit and delivery mode from admitted.config.
  Result<void> settle_limits(const http::Request& request, AdmittedRequest& admitted) const;

  const config::ConfigStore& store_;
  const policy::RateLimiter& limiter_;
  kafka::RecordSink& sink_;
  ProduceSettings settings_;
  // Signatures reserved or accepted, for signing keys. Shared: a deferred answer may settle
  // its reservation after the gate is gone.
  std::shared_ptr<policy::ReplayCache> replays_;
  AcceptedByTopic accepted_;
};

// The request's headers followed by a record's own, built in `scratch` (reused per record).
std::span<const kafka::RecordHeader> with_record_headers(const RecordHeaders& request_headers,
                                                         std::span<const std::pair<std::string, std::string>> own,
                                                         std::vector<kafka::RecordHeader>& scratch);

// 202 {"accepted":N}: the producer (or the spool) owns the request's N records.
http::Response accepted_response(std::size_t records);

}  // namespace intake::api
