#include "api/confluent_v3_handler.h"

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "api/batch_delivery.h"
#include "api/confluent_errors.h"
#include "api/confluent_v3_body.h"
#include "api/object_splitter.h"
#include "api/ordered_reports.h"
#include "http/media_type.h"
#include "json/writer.h"

namespace intake::api {
namespace {

// What an answer says of one record besides Kafka's outcome; owned, as the answer may be
// rendered on a producer thread after the request's buffers are gone.
struct RecordSummary {
  std::string id;
  std::optional<ConfluentDataType> key_type;
  std::size_t key_size = 0;
  ConfluentDataType value_type = ConfluentDataType::kBinary;
  std::size_t value_size = 0;
  std::int64_t requested_timestamp_ms = 0;
};

struct Target {
  std::string cluster_id;
  std::string topic;
};

RecordSummary summary_of(const ConfluentV3Record& entry) {
  return {entry.id,          entry.key_type, entry.record.key.size(), entry.value_type, entry.record.value.size(),
          entry.timestamp_ms};
}

// The members a success shares in both answers, after any "id".
void write_success(json::Writer& body, const Target& target, const RecordSummary& summary,
                   const RecordOutcome& outcome) {
  body.field("cluster_id", target.cluster_id).field("topic_name", target.topic);
  body.field("partition_id", outcome.partition).field("offset", outcome.offset);
  // Kafka's timestamp; else the one the client asked for; else none known.
  const std::int64_t timestamp = outcome.timestamp_ms >= 0 ? outcome.timestamp_ms : summary.requested_timestamp_ms;
  if (timestamp > 0) {
    body.field("timestamp", format_rfc3339_ms(timestamp));
  } else {
    body.null_field("timestamp");
  }
  if (summary.key_type) {
    body.begin_object("key").field("type", confluent_data_type_name(*summary.key_type));
    body.field("size", summary.key_size).end_object();
  } else {
    body.null_field("key");
  }
  body.begin_object("value").field("type", confluent_data_type_name(summary.value_type));
  body.field("size", summary.value_size).end_object();
}

http::Response render_record(const Target& target, const RecordSummary& summary, const RecordOutcome& outcome) {
  if (!outcome.delivered) return confluent_v3_error_response(outcome.error);
  http::Response response = http::json_response(200, {});
  json::Writer body(response.body);
  body.begin_object().field("error_code", 200);
  write_success(body, target, summary, outcome);
  body.end_object();
  return response;
}

http::Response render_batch(const Target& target, std::span<const RecordSummary> summaries,
                            std::span<const RecordOutcome> outcomes) {
  http::Response response = http::json_response(207, {});
  json::Writer body(response.body);
  body.begin_object().begin_array("successes");
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].delivered) continue;
    body.begin_object().field("id", summaries[i].id);
    write_success(body, target, summaries[i], outcomes[i]);
    body.end_object();
  }
  body.end_array().begin_array("failures");
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].delivered) continue;
    const Error& error = outcomes[i].error;
    body.begin_object().field("id", summaries[i].id).field("error_code", error_http_status(error.code));
    body.field("message", error.message).field("code", error_name(error.code)).end_object();
  }
  body.end_array().end_object();
  return response;
}

// One line of a streamed answer: a record's report, as render_record's body (or its error).
std::string stream_report(const Target& target, const RecordSummary& summary, const RecordOutcome& outcome) {
  std::string out;
  json::Writer body(out);
  if (outcome.delivered) {
    body.begin_object().field("error_code", 200);
    write_success(body, target, summary, outcome);
    body.end_object();
  } else {
    body.begin_object()
        .field("error_code", error_http_status(outcome.error.code))
        .field("message", outcome.error.message)
        .field("code", error_name(outcome.error.code))
        .end_object();
  }
  out += '\n';
  return out;
}

std::string stream_error(const Error& error) {
  RecordOutcome outcome;
  outcome.error = error;
  return stream_report({}, {}, outcome);
}

// Writes one streamed record's report into its slot once Kafka has answered, then deletes
// itself.
class StreamedDelivery final : public kafka::DeliveryListener {
 public:
  StreamedDelivery(std::shared_ptr<OrderedReports> reports, std::size_t slot, std::shared_ptr<const Target> target,
                   RecordSummary summary)
      : reports_(std::move(reports)), slot_(slot), target_(std::move(target)), summary_(std::move(summary)) {}

  void on_delivery(const kafka::DeliveryReport& report) override {
    RecordOutcome outcome;
    outcome.delivered = report.delivered;
    outcome.partition = report.partition;
    outcome.offset = report.offset;
    outcome.timestamp_ms = report.timestamp_ms;
    if (!report.delivered) outcome.error = report.error;
    reports_->fill(slot_, stream_report(*target_, summary_, outcome));
    delete this;
  }

 private:
  std::shared_ptr<OrderedReports> reports_;
  std::size_t slot_;
  std::shared_ptr<const Target> target_;
  RecordSummary summary_;
};

// The v3 produce stream: records one after another in a chunked body, each produced as soon
// as its closing brace is in, each answered by one report line in record order as Kafka
// acknowledges it — while the client is still sending. A record that does not decode, or
// that the rate or the producer refuses, gets its error as its report; the stream goes on.
// Bytes that are not a record object end the stream (the last report says why).
class RecordStream final : public http::BodyStream {
 public:
  RecordStream(ProduceGate& gate, AdmittedRequest admitted, std::string topic, Target target,
               const http::Request& request, const std::shared_ptr<http::StreamOutput>& output)
      : gate_(gate),
        admitted_(std::move(admitted)),
        topic_(std::move(topic)),
        target_(std::make_shared<const Target>(std::move(target))),
        reports_(std::make_shared<OrderedReports>(output)),
        // A record's JSON may be larger than its value (base64 grows it by a third, plus
        // headers and key), so the object bound is generous; the value is checked exactly.
        splitter_(admitted_.limit.max_bytes > 0 ? admitted_.limit.max_bytes * 2 + 64 * 1024 : kMaxStreamedObject) {
    admitted_.topic = topic_;
    admitted_.limit.topic = topic_;
    // The request's header views stay valid while the stream runs: the connection keeps the
    // head in place until the answer is complete.
    gate_.fill_headers(request, admitted_, headers_);
  }

  bool on_body(std::string& body) override {
    std::size_t consumed = 0;
    bool go_on = true;
    for (;;) {
      auto found = splitter_.next(std::string_view(body).substr(consumed));
      if (!found) {
        reports_->fill(reports_->reserve(), stream_error(found.error()));
        reports_->end();
        go_on = false;
        break;
      }
      if (!found.value()) break;
      produce(std::string_view(body).substr(consumed, *found.value()));
      consumed += *found.value();
    }
    body.erase(0, consumed);
    return go_on;
  }

  void on_end(std::string& body) override {
    if (on_body(body)) {
      if (!splitter_.between_objects()) {
        reports_->fill(
            reports_->reserve(),
            stream_error(Error{ErrorCode::kBadRequest, "the stream ended inside a record; send whole records"}));
      }
      reports_->end();
    }
  }

 private:
  static constexpr std::size_t kMaxStreamedObject = std::size_t{64} << 20;

  void produce(std::string_view object) {
    const auto slot = reports_->reserve();
    auto entry = decode_confluent_v3_record(object, admitted_.limit);
    if (!entry) {
      reports_->fill(slot, stream_error(entry.error()));
      return;
    }
    if (auto rate = gate_.admit_rate(admitted_, 1, entry->record.value.size()); !rate) {
      reports_->fill(slot, stream_error(rate.error()));
      return;
    }
    auto* listener = new StreamedDelivery(reports_, slot, target_, summary_of(entry.value()));  // deletes itself
    const DecodedRecord& record = entry->record;
    auto enqueued = gate_.enqueue({.topic = admitted_.topic,
                                   .key = record.key,
                                   .value = record.value,
                                   .partition = record.partition,
                                   .headers = with_record_headers(headers_, record.headers, scratch_),
                                   .listener = listener,
                                   .timestamp_ms = entry->timestamp_ms});
    if (!enqueued) {
      delete listener;  // the sink did not take it: no report will come
      reports_->fill(slot, stream_error(enqueued.error()));
    }
  }

  ProduceGate& gate_;
  AdmittedRequest admitted_;
  std::string topic_;
  std::shared_ptr<const Target> target_;
  std::shared_ptr<OrderedReports> reports_;
  ObjectSplitter splitter_;
  RecordHeaders headers_;
  std::vector<kafka::RecordHeader> scratch_;
};

}  // namespace

std::unique_ptr<http::BodyStream> ConfluentV3Handler::open_stream(const http::Request& request,
                                                                  const http::RouteParams& params,
                                                                  const std::shared_ptr<http::StreamOutput>& output) {
  if (params.pattern != kConfluentV3RecordsRoute) return nullptr;
  // Anything that refuses the request is left to handle(), which answers it as a whole.
  auto cluster = served_cluster_id();
  if (!cluster || params[0] != cluster.value()) return nullptr;
  if (!http::match_media_type(request.header("Content-Type"), {"application/json"}, 0)) return nullptr;
  auto admission = gate_.admit_stream(request, topic_of(params));
  if (!admission) return nullptr;
  return std::make_unique<RecordStream>(gate_, std::move(admission).value(), std::string(topic_of(params)),
                                        Target{std::move(cluster).value(), std::string(topic_of(params))}, request,
                                        output);
}

http::Response ConfluentV3Handler::render_error(const Error& error) const { return confluent_v3_error_response(error); }

Result<std::string> ConfluentV3Handler::served_cluster_id() const {
  if (!cluster_.configured.empty()) return cluster_.configured;
  std::string id = cluster_.kafka_cluster_id ? cluster_.kafka_cluster_id() : std::string();
  if (id.empty()) {
    return Error{ErrorCode::kKafkaUnavailable,
                 "the Kafka cluster's id is not known yet (no broker has answered); retry shortly, or set "
                 "confluent.cluster_id"};
  }
  return id;
}

http::Response ConfluentV3Handler::handle(const http::Request& request, const http::RouteParams& params) {
  auto cluster = served_cluster_id();
  if (!cluster) return render_error(cluster.error());
  if (params[0] != cluster.value()) {
    return render_error(Error{ErrorCode::kClusterNotFound, "no cluster \"" + std::string(params[0]) +
                                                               "\" here; this gateway produces to cluster \"" +
                                                               cluster.value() + "\""});
  }
  auto admission = gate_.admit(request, topic_of(params));
  if (!admission) return render_error(admission.error());
  return ProduceGate::answer(admission.value(),
                             produce(request, params, admission.value(), std::move(cluster).value()));
}

http::Response ConfluentV3Handler::produce(const http::Request& request, const http::RouteParams& params,
                                           const AdmittedRequest& admitted, std::string cluster) {
  if (auto media = http::match_media_type(request.header("Content-Type"), {"application/json"}, 0); !media) {
    return render_error(media.error());
  }
  const bool batch = params.pattern == kConfluentV3BatchRoute;
  ConfluentV3Batch decoded;
  if (batch) {
    auto entries =
        decode_confluent_v3_batch(admitted.body(), {.record = admitted.limit, .max_records = kMaxBatchRecords});
    if (!entries) return render_error(entries.error());
    decoded = std::move(entries).value();
  } else {
    auto entry = decode_confluent_v3_record(admitted.body(), admitted.limit);
    if (!entry) return render_error(entry.error());
    decoded.value_bytes = entry->record.value.size();
    decoded.entries.push_back(std::move(entry).value());
  }
  const auto& entries = decoded.entries;
  if (auto rate = gate_.admit_rate(admitted, entries.size(), decoded.value_bytes); !rate) {
    return render_error(rate.error());
  }
  RecordHeaders headers;
  gate_.fill_headers(request, admitted, headers);
  Target target{std::move(cluster), std::string(admitted.topic)};
  std::vector<RecordSummary> summaries;
  summaries.reserve(entries.size());
  for (const auto& entry : entries) summaries.push_back(summary_of(entry));
  BatchRenderer render;
  if (batch) {
    render = [target = std::move(target), summaries = std::move(summaries)](std::span<const RecordOutcome> outcomes) {
      return render_batch(target, summaries, outcomes);
    };
  } else {
    render = [target = std::move(target), summary = summaries.front()](std::span<const RecordOutcome> outcomes) {
      return render_record(target, summary, outcomes.front());
    };
  }
  // Always sync: the proxy's answer is the records' offsets.
  auto* delivery = BatchDelivery::start(entries.size(), std::move(render));
  std::vector<kafka::RecordHeader> scratch;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const DecodedRecord& record = entries[i].record;
    delivery->produce(gate_, i,
                      {.topic = admitted.topic,
                       .key = record.key,
                       .value = record.value,
                       .partition = record.partition,
                       .headers = with_record_headers(headers, record.headers, scratch),
                       .listener = nullptr,
                       .timestamp_ms = entries[i].timestamp_ms});
  }
  http::Response response = delivery->finish(gate_.sync_timeout_ms());
  // Kafka's silence past the sync timeout is answered by the server: in v3 form too.
  response.render_deferred_error = confluent_v3_error_response;
  return response;
}

}  // namespace intake::api
