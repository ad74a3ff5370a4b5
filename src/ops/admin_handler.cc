#include "ops/admin_handler.h"

#include <ctime>

#include "json/writer.h"
#include "policy/access.h"

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

using json::append_int;
using json::append_string;

void append_field(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += ',';
  append_string(out, name);
  out += ':';
  append_string(out, value);
}

void append_number(std::string& out, double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.15g", value);
  out += text;
}

void append_string_list(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, items[i]);
  }
  out += ']';
}

std::string_view mode_name(config::DeliveryMode mode) { return mode == config::DeliveryMode::kSync ? "sync" : "async"; }

void append_keys(std::string& out, const config::Config& config) {
  // Sorted by id so the output is stable and diffable.
  std::vector<const config::ApiKey*> keys;
  keys.reserve(config.keys.size());
  for (const auto& [digest, key] : config.keys) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->id < b->id; });
  out += "\"keys\":[";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& key = *keys[i];
    if (i > 0) out += ',';
    out += '{';
    append_field(out, "id", key.id, true);
    out += ",\"topics\":";
    append_string_list(out, key.topic_patterns);
    out += ",\"enabled\":";
    out += key.enabled ? "true" : "false";
    if (key.rate) {
      out += ",\"rate\":{\"per_sec\":";
      append_number(out, key.rate->records_per_sec);
      out += ",\"burst\":";
      append_number(out, key.rate->burst);
      if (key.rate->bytes_per_sec > 0) {
        out += ",\"bytes_per_sec\":";
        append_number(out, key.rate->bytes_per_sec);
        out += ",\"bytes_burst\":";
        append_number(out, key.rate->bytes_burst);
      }
      out += '}';
    }
    if (key.expires_at) append_field(out, "expires_at", format_time(*key.expires_at));
    // Whether requests must be signed, never the signing secret itself.
    out += ",\"signed\":";
    out += key.signing_secret.empty() ? "false" : "true";
    out += '}';
  }
  out += ']';
}

void append_topics(std::string& out, const config::Config& config) {
  std::vector<std::pair<std::string, config::TopicPolicy>> topics(config.topics.begin(), config.topics.end());
  std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out += "\"topics\":{";
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (i > 0) out += ',';
    append_string(out, topics[i].first);
    out += ":{\"max_record_bytes\":";
    append_int(out, static_cast<std::int64_t>(topics[i].second.max_record_bytes));
    if (topics[i].second.mode) append_field(out, "mode", mode_name(*topics[i].second.mode));
    out += '}';
  }
  out += '}';
}

}  // namespace

http::Response AdminConfigHandler::handle(const http::Request& request, const http::RouteParams& /*params*/) {
  if (!token_sha256_) {
    return http::error_response({ErrorCode::kNotFound, "the admin API is off: set admin.token_sha256 in the YAML"});
  }
  auto token = policy::presented_key(request.header("Authorization"), {});
  if (!token || !crypto::constant_time_equal(crypto::sha256(token.value()), *token_sha256_)) {
    return http::error_response(
        {ErrorCode::kUnauthorizedAdmin, "send the admin token as 'Authorization: Bearer <admin token>'"});
  }
  const auto config = store_.current();
  const auto rejected = store_.last_rejected();
  const auto counters = store_.counters();

  std::string out;
  out.reserve(256 + config->keys.size() * 96);
  out += "{\"version\":";
  append_int(out, static_cast<std::int64_t>(config->version));
  append_field(out, "content_hash", config->content_hash);
  append_field(out, "source", config->source);
  append_field(out, "revision", config->revision);
  append_field(out, "applied_at", format_time(config->applied_at));
  out += ",\"counters\":{\"published\":";
  append_int(out, static_cast<std::int64_t>(counters.published));
  out += ",\"rejected\":";
  append_int(out, static_cast<std::int64_t>(counters.rejected));
  out += ",\"unchanged\":";
  append_int(out, static_cast<std::int64_t>(counters.unchanged));
  out += "},\"last_rejected\":";
  if (rejected) {
    out += '{';
    append_field(out, "source", rejected->source, true);
    append_field(out, "revision", rejected->revision);
    append_field(out, "at", format_time(rejected->at));
    append_field(out, "error", rejected->error);
    out += '}';
  } else {
    out += "null";
  }
  out += ",\"sources\":[";
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const auto stats = sources_[i]->stats();
    if (i > 0) out += ',';
    out += '{';
    append_field(out, "name", sources_[i]->name(), true);
    out += ",\"requests\":";
    append_int(out, static_cast<std::int64_t>(stats.requests));
    out += ",\"errors\":";
    append_int(out, static_cast<std::int64_t>(stats.errors));
    out += ",\"snapshots\":";
    append_int(out, static_cast<std::int64_t>(stats.snapshots));
    append_field(out, "revision", stats.revision);
    out += '}';
  }
  out += "],\"brokers\":{\"configured\":";
  append_string_list(out, config->brokers);
  out += ",\"producer\":";
  append_string_list(out, producer_brokers_());
  out += "},\"settings\":{";
  append_field(out, "default_mode", mode_name(config->settings.default_mode), true);
  out += ",\"max_record_bytes\":";
  append_int(out, static_cast<std::int64_t>(config->settings.max_record_bytes));
  out += ",\"signature_window_s\":";
  append_int(out, config->settings.signature_window_s);
  out += "},";
  append_topics(out, *config);
  out += ',';
  append_keys(out, *config);
  out += '}';
  return http::json_response(200, std::move(out));
}

}  // namespace intake::ops
