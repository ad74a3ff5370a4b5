#include "config/builder.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <cmath>
#include <set>
#include <string_view>

#include "config/broker_address.h"
#include "config/names.h"
#include "crypto/digest.h"
#include "policy/glob.h"
#include "policy/topic_name.h"

namespace intake::config {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Bounds that catch typos (an extra zero digit, a missing one) without limiting real
// deployments. The token bucket saturates its own arithmetic, so these are about meaning, not
// safety: a limit under one record per 1000 s is no rate limit an HTTP client can work with.
constexpr double kMinRatePerSec = 0.001;
constexpr double kMaxRatePerSec = 10'000'000;
constexpr double kMinBurst = 1;  // a smaller bucket could never hold one record
constexpr double kMaxBurst = kMaxRatePerSec * 60;
constexpr double kMinBytesPerSec = 1;
constexpr double kMaxBytesPerSec = 10.0 * 1024 * 1024 * 1024;
constexpr double kMinBytesBurst = 1;
constexpr double kMaxBytesBurst = kMaxBytesPerSec * 60;
constexpr std::uint64_t kMaxRecordBytes = 64ull * 1024 * 1024;

// Collects the first problem; every check names the full registry key.
class Problem {
 public:
  explicit Problem(std::string registry_key) : registry_key_(std::move(registry_key)) {}
  bool set(std::string what) {
    if (message_.empty()) message_ = registry_key_ + ": " + std::move(what);
    return false;
  }
  bool any() const { return !message_.empty(); }
  Error error() const { return Error{ErrorCode::kInvalidConfig, message_}; }

 private:
  std::string registry_key_;
  std::string message_;
};

bool require_object(simdjson::dom::parser& parser, const std::string& text, object& out, Problem& problem) {
  element document;
  if (auto error = parser.parse(text).get(document); error) {
    return problem.set(std::string("value is not valid JSON: ") + simdjson::error_message(error));
  }
  if (document.get_object().get(out) != simdjson::SUCCESS) return problem.set("value must be a JSON object");
  return true;
}

bool known_fields(const object& fields, std::initializer_list<std::string_view> known, Problem& problem) {
  for (auto field : fields) {
    bool found = false;
    for (auto name : known) found = found || name == field.key;
    if (!found) {
      std::string list;
      for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      return problem.set("unknown field '" + std::string(field.key) + "' (known fields: " + list + ")");
    }
  }
  return true;
}

// "0.001", "10000000": whole numbers without an exponent, others as %g.
std::string number_text(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

bool number_in_range(element value, std::string_view field, double min, double max, double& out, Problem& problem) {
  const std::string range = "'" + std::string(field) + "' must be a number from " + number_text(min) + " to " +
                            number_text(max);
  if (value.get_double().get(out) != simdjson::SUCCESS || !std::isfinite(out)) return problem.set(range);
  if (out < min || out > max) return problem.set(range + ", got " + number_text(out));
  return true;
}

bool record_bytes(element value, std::string_view field, std::size_t& out, Problem& problem) {
  std::uint64_t bytes = 0;
  if (value.get_uint64().get(bytes) != simdjson::SUCCESS || bytes == 0 || bytes > kMaxRecordBytes) {
    return problem.set("'" + std::string(field) + "' must be a whole number from 1 to " + std::to_string(kMaxRecordBytes));
  }
  out = static_cast<std::size_t>(bytes);
  return true;
}

bool delivery_mode(element value, std::string_view field, DeliveryMode& out, Problem& problem) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    if (text == "async") return out = DeliveryMode::kAsync, true;
    if (text == "sync") return out = DeliveryMode::kSync, true;
  }
  return problem.set("'" + std::string(field) + "' must be \"async\" or \"sync\"");
}

bool parse_rate(element value, RateLimit& rate, Problem& problem) {
  object fields;
  if (value.get_object().get(fields) != simdjson::SUCCESS) return problem.set("'rate' must be an object");
  if (!known_fields(fields, {"per_sec", "burst", "bytes_per_sec", "bytes_burst"}, problem)) return false;
  element per_sec, burst, bytes_per_sec, bytes_burst;
  if (fields["per_sec"].get(per_sec) != simdjson::SUCCESS) return problem.set("'rate.per_sec' is required");
  if (!number_in_range(per_sec, "rate.per_sec", kMinRatePerSec, kMaxRatePerSec, rate.records_per_sec, problem)) {
    return false;
  }
  rate.burst = std::max(rate.records_per_sec, kMinBurst);  // default: one second's worth
  if (fields["burst"].get(burst) == simdjson::SUCCESS &&
      !number_in_range(burst, "rate.burst", kMinBurst, kMaxBurst, rate.burst, problem)) {
    return false;
  }
  if (fields["bytes_per_sec"].get(bytes_per_sec) == simdjson::SUCCESS) {
    if (!number_in_range(bytes_per_sec, "rate.bytes_per_sec", kMinBytesPerSec, kMaxBytesPerSec, rate.bytes_per_sec,
                         problem)) {
      return false;
    }
    rate.bytes_burst = std::max(rate.bytes_per_sec, static_cast<double>(kMaxRecordBytes));
    if (fields["bytes_burst"].get(bytes_burst) == simdjson::SUCCESS &&
        !number_in_range(bytes_burst, "rate.bytes_burst", kMinBytesBurst, kMaxBytesBurst, rate.bytes_burst, problem)) {
      return false;
    }
  } else if (fields["bytes_burst"].get(bytes_burst) == simdjson::SUCCESS) {
    return problem.set("'rate.bytes_burst' needs 'rate.bytes_per_sec'");
  }
  return true;
}

// Unix seconds, or RFC 3339 UTC ("2027-01-31T23:59:59Z").
bool parse_expiry(element value, std::chrono::system_clock::time_point& out, Problem& problem) {
  std::int64_t seconds = 0;
  std::string_view text;
  if (value.get_int64().get(seconds) == simdjson::SUCCESS) {
    if (seconds <= 0) return problem.set("'expires_at' must be a positive unix time");
  } else if (value.get_string().get(text) == simdjson::SUCCESS) {
    std::tm parts{};
    char zone = 0;
    const std::string copy(text);
    if (text.size() != 20 ||
        std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                    &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &zone) != 7 ||
        zone != 'Z') {
      return problem.set("'expires_at' must be unix seconds or UTC like \"2027-01-31T23:59:59Z\"");
    }
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    seconds = timegm(&parts);
  } else {
    return problem.set("'expires_at' must be unix seconds or an RFC 3339 UTC string");
  }
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (seconds >= 7'258'118'400) return problem.set("'expires_at' must be before the year 2200");
  out = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
  return true;
}

bool parse_key(simdjson::dom::parser& parser, std::string_view id, const std::string& text, ApiKey& key,
               Problem& problem) {
  if (auto bad = key_id_problem(id); !bad.empty()) return problem.set(std::string(bad));
  key.id = std::string(id);
  object fields;
  if (!require_object(parser, text, fields, problem)) return false;
  if (!known_fields(fields, {"secret_sha256", "topics", "enabled", "rate", "expires_at", "signing_secret"}, problem)) {
    return false;
  }

  element value;
  std::string_view secret;
  if (fields["secret_sha256"].get(value) != simdjson::SUCCESS || value.get_string().get(secret) != simdjson::SUCCESS) {
    return problem.set("'secret_sha256' is required: the hex SHA-256 of the key's secret (intake hash-key SECRET)");
  }
  auto digest = crypto::parse_sha256_hex(secret);
  if (!digest) return problem.set("'secret_sha256' must be 64 hex digits");
  key.secret_sha256 = *digest;

  if (fields["topics"].get(value) == simdjson::SUCCESS) {
    simdjson::dom::array topics;
    if (value.get_array().get(topics) != simdjson::SUCCESS) return problem.set("'topics' must be a list of topic globs");
    for (auto topic : topics) {
      std::string_view pattern;
      if (topic.get_string().get(pattern) != simdjson::SUCCESS) return problem.set("'topics' must contain only strings");
      if (auto bad = policy::glob_problem(pattern); !bad.empty()) {
        return problem.set("topic glob '" + std::string(pattern) + "': " + std::string(bad));
      }
      key.topic_patterns.emplace_back(pattern);
    }
  }
  if (fields["enabled"].get(value) == simdjson::SUCCESS && value.get_bool().get(key.enabled) != simdjson::SUCCESS) {
    return problem.set("'enabled' must be true or false");
  }
  if (fields["rate"].get(value) == simdjson::SUCCESS) {
    RateLimit rate;
    if (!parse_rate(value, rate, problem)) return false;
    key.rate = rate;
  }
  if (fields["expires_at"].get(value) == simdjson::SUCCESS) {
    std::chrono::system_clock::time_point expiry;
    if (!parse_expiry(value, expiry, problem)) return false;
    key.expires_at = expiry;
  }
  if (fields["signing_secret"].get(value) == simdjson::SUCCESS) {
    std::string_view secret;
    // The message never echoes the value: it is a secret.
    if (value.get_string().get(secret) != simdjson::SUCCESS || secret.size() < 16 || secret.size() > 256) {
      return problem.set("'signing_secret' must be a string of 16 to 256 characters");
    }
    key.signing_secret = std::string(secret);
  }
  return true;
}

bool parse_topic(simdjson::dom::parser& parser, std::string_view name, const std::string& text, TopicPolicy& topic,
                 Problem& problem) {
  if (auto bad = policy::topic_name_problem(name); !bad.empty()) return problem.set(std::string(bad));
  object fields;
  if (!require_object(parser, text, fields, problem)) return false;
  if (!known_fields(fields, {"max_record_bytes", "mode"}, problem)) return false;
  element value;
  if (fields["max_record_bytes"].get(value) == simdjson::SUCCESS &&
      !record_bytes(value, "max_record_bytes", topic.max_record_bytes, problem)) {
    return false;
  }
  if (fields["mode"].get(value) == simdjson::SUCCESS) {
    DeliveryMode mode;
    if (!delivery_mode(value, "mode", mode, problem)) return false;
    topic.mode = mode;
  }
  return true;
}

bool parse_settings(simdjson::dom::parser& parser, const std::string& text, Settings& settings, Problem& problem) {
  object fields;
  if (!require_object(parser, text, fields, problem)) return false;
  if (!known_fields(fields, {"default_mode", "max_record_bytes", "signature_window_s"}, problem)) return false;
  element value;
  if (fields["default_mode"].get(value) == simdjson::SUCCESS &&
      !delivery_mode(value, "default_mode", settings.default_mode, problem)) {
    return false;
  }
  if (fields["max_record_bytes"].get(value) == simdjson::SUCCESS &&
      !record_bytes(value, "max_record_bytes", settings.max_record_bytes, problem)) {
    return false;
  }
  if (fields["signature_window_s"].get(value) == simdjson::SUCCESS &&
      (value.get_int64().get(settings.signature_window_s) != simdjson::SUCCESS || settings.signature_window_s < 1 ||
       settings.signature_window_s > 3600)) {
    return problem.set("'signature_window_s' must be a whole number of seconds from 1 to 3600");
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<Config>> build_config(const RawTree& tree) {
  auto config = std::make_shared<Config>();
  config->source = tree.source + ":" + tree.prefix;
  config->revision = tree.revision;
  config->content_hash = content_hash(tree);
  config->keys.reserve(tree.entries.size());

  simdjson::dom::parser parser;
  std::set<std::string> brokers;
  for (const auto& [relative, value] : tree.entries) {
    Problem problem(tree.prefix + relative);
    const std::string_view name(relative);
    // Folder markers ("keys/") that Consul's UI and `consul kv put x/` create carry no config.
    if (name.empty() || name.back() == '/') continue;
    if (name.rfind("keys/", 0) == 0) {
      ApiKey key;
      if (!parse_key(parser, name.substr(5), value, key, problem)) return problem.error();
      const std::string id = key.id;
      auto [it, inserted] = config->keys.emplace(key.secret_sha256, std::move(key));
      if (!inserted) problem.set("same secret as key '" + it->second.id + "'; every key needs its own secret");
    } else if (name.rfind("topics/", 0) == 0) {
      TopicPolicy topic;
      if (!parse_topic(parser, name.substr(7), value, topic, problem)) return problem.error();
      config->topics.emplace(std::string(name.substr(7)), topic);
    } else if (name == "settings") {
      parse_settings(parser, value, config->settings, problem);
    } else if (name.rfind("brokers/", 0) == 0) {
      const std::string address(name.substr(8));
      if (!is_broker_address(address)) problem.set("broker must be named host:port (an IPv6 address as [addr]:port)");
      brokers.insert(address);
    } else {
      problem.set("unknown entry; expected keys/<key-id>, topics/<topic>, settings or brokers/<host:port>");
    }
    if (problem.any()) return problem.error();
  }
  config->brokers.assign(brokers.begin(), brokers.end());
  return config;
}

void attach_rate_states(Config& next, const Config* previous) {
  absl::flat_hash_map<std::string_view, std::shared_ptr<policy::KeyRateState>> kept;
  if (previous != nullptr) {
    kept.reserve(previous->keys.size());
    for (const auto& [digest, key] : previous->keys) {
      if (key.rate_state) kept.emplace(key.id, key.rate_state);
    }
  }
  for (auto& [digest, key] : next.keys) {
    auto it = kept.find(key.id);
    key.rate_state = it != kept.end() ? it->second : std::make_shared<policy::KeyRateState>();
  }
}

std::string content_hash(const RawTree& tree) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  for (const auto& [key, value] : tree.entries) {
    // Length-prefixed so ("ab","c") and ("a","bc") hash differently.
    const std::uint64_t lengths[2] = {key.size(), value.size()};
    EVP_DigestUpdate(context, lengths, sizeof(lengths));
    EVP_DigestUpdate(context, key.data(), key.size());
    EVP_DigestUpdate(context, value.data(), value.size());
  }
  crypto::Sha256 digest;
  EVP_DigestFinal_ex(context, digest.data(), nullptr);
  EVP_MD_CTX_free(context);
  return crypto::to_hex(digest);
}

}  // namespace intake::config
