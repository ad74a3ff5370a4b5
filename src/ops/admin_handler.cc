#include "ops/admin_handler.h"

#include <ctime>

#include "json/writer.h"
#include "ops/admin_token.h"

namespace intake::ops {

std::string format_time(std::chrono::system_clock::time_point at) {
  if (at == std::chrono::system_clock::time_point{}) return "";
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];  // sized for any int values, so the compiler can prove no truncation
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis % 1000));
  return text;
}

namespace {

void write_string_list(json::Writer& json, std::string_view name, const std::vector<std::string>& items) {
  json.begin_array(name);
  for (const auto& item : items) json.value(item);
  json.end_array();
}

std::string_view mode_name(config::DeliveryMode mode) { return mode == config::DeliveryMode::kSync ? "sync" : "async"; }

void write_keys(json::Writer& json, const config::Config& config) {
  // Sorted by id so the output is stable and diffable.
  std::vector<const config::ApiKey*> keys;
  keys.reserve(config.keys.size());
  for (const auto& [digest, key] : config.keys) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->id < b->id; });
  json.begin_array("keys");
  for (const auto* key : keys) {
    json.begin_object().field("id", key->id);
    write_string_list(json, "topics", key->topic_patterns);
    json.field("enabled", key->enabled);
    if (key->rate) {
      json.begin_object("rate").field("per_sec", key->rate->records_per_sec).field("burst", key->rate->burst);
      if (key->rate->bytes_per_sec > 0) {
        json.field("bytes_per_sec", key->rate->bytes_per_sec).field("bytes_burst", key->rate->bytes_burst);
      }
      json.end_object();
    }
    if (key->expires_at) json.field("expires_at", format_time(*key->expires_at));
    // Whether requests must be signed, never the signing secret itself.
    json.field("signed", !key->signing_secret.empty());
    json.end_object();
  }
  json.end_array();
}

void write_topics(json::Writer& json, const config::Config& config) {
  std::vector<std::pair<std::string, config::TopicPolicy>> topics(config.topics.begin(), config.topics.end());
  std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json.begin_object("topics");
  for (const auto& [name, policy] : topics) {
    json.begin_object(name).field("max_record_bytes", policy.max_record_bytes);
    if (policy.mode) json.field("mode", mode_name(*policy.mode));
    json.end_object();
  }
  json.end_object();
}

}  // namespace

http::Response AdminConfigHandler::handle(const http::Request& request, const http::RouteParams& /*params*/) {
  if (!token_sha256_) {
    return http::error_response({ErrorCode::kNotFound, "the admin API is off: set admin.token_sha256 in the YAML"});
  }
  if (auto refusal = refuse_without_admin_token(request, *token_sha256_)) return std::move(*refusal);
  const auto config = store_.current();
  const auto rejected = store_.last_rejected();
  const auto held = store_.held();
  const auto counters = store_.counters();

  std::string out;
  out.reserve(256 + config->keys.size() * 96);
  json::Writer json(out);
  json.begin_object()
      .field("version", config->version)
      .field("content_hash", config->content_hash)
      .field("source", config->source)
      .field("revision", config->revision)
      .field("applied_at", format_time(config->applied_at));
  json.begin_object("counters")
      .field("published", counters.published)
      .field("rejected", counters.rejected)
      .field("unchanged", counters.unchanged)
      .field("held", counters.held)
      .end_object();
  if (rejected) {
    json.begin_object("last_rejected")
        .field("source", rejected->source)
        .field("revision", rejected->revision)
        .field("at", format_time(rejected->at))
        .field("error", rejected->error)
        .end_object();
  } else {
    json.null_field("last_rejected");
  }
  // The registry's latest answer, held back because it would remove every key.
  if (held) {
    json.begin_object("held")
        .field("source", held->source)
        .field("revision", held->revision)
        .field("since", format_time(held->since))
        .field("reason", held->reason)
        .end_object();
  } else {
    json.null_field("held");
  }
  json.begin_array("sources");
  for (const auto* source : sources_) {
    const auto stats = source->stats();
    json.begin_object()
        .field("name", source->name())
        .field("requests", stats.requests)
        .field("errors", stats.errors)
        .field("snapshots", stats.snapshots)
        .field("revision", stats.revision)
        .end_object();
  }
  json.end_array();
  json.begin_object("brokers");
  write_string_list(json, "configured", config->brokers);
  write_string_list(json, "producer", producer_brokers_());
  json.end_object();
  json.begin_object("settings")
      .field("default_mode", mode_name(config->settings.default_mode))
      .field("max_record_bytes", config->settings.max_record_bytes)
      .field("signature_window_s", config->settings.signature_window_s)
      .end_object();
  write_topics(json, *config);
  write_keys(json, *config);
  json.end_object();
  return http::json_response(200, std::move(out));
}

}  // namespace intake::ops
