#include "config/builder.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <string_view>

#include "crypto/digest.h"
#include "names/broker_address.h"
#include "names/key_id.h"
#include "names/topic_glob.h"
#include "names/topic_name.h"

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

// What is wrong with one entry's value; build_config puts the registry key in front.
Error invalid(std::string what) { return Error{ErrorCode::kInvalidConfig, std::move(what)}; }

Result<object> require_object(simdjson::dom::parser& parser, const std::string& text) {
  element document;
  if (auto error = parser.parse(text).get(document); error) {
    return invalid(std::string("value is not valid JSON: ") + simdjson::error_message(error));
  }
  object fields;
  if (document.get_object().get(fields) != simdjson::SUCCESS) return invalid("value must be a JSON object");
  return fields;
}

Result<void> known_fields(const object& fields, std::initializer_list<std::string_view> known) {
  for (auto field : fields) {
    bool found = false;
    for (auto name : known) found = found || name == field.key;
    if (!found) {
      std::string list;
      for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
      return invalid("unknown field '" + std::string(field.key) + "' (known fields: " + list + ")");
    }
  }
  return {};
}

// "0.001", "10000000": whole numbers without an exponent, others as %g.
std::string number_text(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

Result<double> number_in_range(element value, std::string_view field, double min, double max) {
  const std::string range =
      "'" + std::string(field) + "' must be a number from " + number_text(min) + " to " + number_text(max);
  double number = 0;
  if (value.get_double().get(number) != simdjson::SUCCESS || !std::isfinite(number)) return invalid(range);
  if (number < min || number > max) return invalid(range + ", got " + number_text(number));
  return number;
}

Result<std::size_t> record_bytes(element value, std::string_view field) {
  std::uint64_t bytes = 0;
  if (value.get_uint64().get(bytes) != simdjson::SUCCESS || bytes == 0 || bytes > kMaxRecordBytes) {
    return invalid("'" + std::string(field) + "' must be a whole number from 1 to " + std::to_string(kMaxRecordBytes));
  }
  return static_cast<std::size_t>(bytes);
}

Result<DeliveryMode> delivery_mode(element value, std::string_view field) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    if (text == "async") return DeliveryMode::kAsync;
    if (text == "sync") return DeliveryMode::kSync;
  }
  return invalid("'" + std::string(field) + "' must be \"async\" or \"sync\"");
}

Result<RateLimit> parse_rate(element value) {
  object fields;
  if (value.get_object().get(fields) != simdjson::SUCCESS) return invalid("'rate' must be an object");
  if (auto known = known_fields(fields, {"per_sec", "burst", "bytes_per_sec", "bytes_burst"}); !known) {
    return std::move(known).error();
  }
  RateLimit rate;
  element per_sec, burst, bytes_per_sec, bytes_burst;
  if (fields["per_sec"].get(per_sec) != simdjson::SUCCESS) return invalid("'rate.per_sec' is required");
  auto records = number_in_range(per_sec, "rate.per_sec", kMinRatePerSec, kMaxRatePerSec);
  if (!records) return std::move(records).error();
  rate.records_per_sec = records.value();
  rate.burst = std::max(rate.records_per_sec, kMinBurst);  // default: one second's worth
  if (fields["burst"].get(burst) == simdjson::SUCCESS) {
    auto given = number_in_range(burst, "rate.burst", kMinBurst, kMaxBurst);
    if (!given) return std::move(given).error();
    rate.burst = given.value();
  }
  if (fields["bytes_per_sec"].get(bytes_per_sec) == simdjson::SUCCESS) {
    auto bytes = number_in_range(bytes_per_sec, "rate.bytes_per_sec", kMinBytesPerSec, kMaxBytesPerSec);
    if (!bytes) return std::move(bytes).error();
    rate.bytes_per_sec = bytes.value();
    rate.bytes_burst = std::max(rate.bytes_per_sec, static_cast<double>(kMaxRecordBytes));
    if (fields["bytes_burst"].get(bytes_burst) == simdjson::SUCCESS) {
      auto given = number_in_range(bytes_burst, "rate.bytes_burst", kMinBytesBurst, kMaxBytesBurst);
      if (!given) return std::move(given).error();
      rate.bytes_burst = given.value();
    }
  } else if (fields["bytes_burst"].get(bytes_burst) == simdjson::SUCCESS) {
    return invalid("'rate.bytes_burst' needs 'rate.bytes_per_sec'");
  }
  return rate;
}

// Unix seconds, or RFC 3339 UTC ("2027-01-31T23:59:59Z").
Result<std::chrono::system_clock::time_point> parse_expiry(element value) {
  std::int64_t seconds = 0;
  std::string_view text;
  if (value.get_int64().get(seconds) == simdjson::SUCCESS) {
    if (seconds <= 0) return invalid("'expires_at' must be a positive unix time");
  } else if (value.get_string().get(text) == simdjson::SUCCESS) {
    std::tm parts{};
    char zone = 0;
    const std::string copy(text);
    if (text.size() != 20 ||
        std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &parts.tm_year, &parts.tm_mon, &parts.tm_mday,
                    &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &zone) != 7 ||
        zone != 'Z') {
      return invalid("'expires_at' must be unix seconds or UTC like \"2027-01-31T23:59:59Z\"");
    }
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    seconds = timegm(&parts);
    // A year before 1970 is far enough back to overflow system_clock's nanoseconds below.
    if (seconds <= 0) return invalid("'expires_at' must be after 1970-01-01T00:00:00Z");
  } else {
    return invalid("'expires_at' must be unix seconds or an RFC 3339 UTC string");
  }
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (seconds >= 7'258'118'400) return invalid("'expires_at' must be before the year 2200");
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

Result<ApiKey> parse_key(simdjson::dom::parser& parser, std::string_view id, const std::string& text) {
  if (auto checked = names::check_key_id(id); !checked) return std::move(checked).error();
  ApiKey key;
  key.id = std::string(id);
  auto parsed = require_object(parser, text);
  if (!parsed) return std::move(parsed).error();
  object fields = parsed.value();
  if (auto known = known_fields(
          fields, {"secret_sha256", "topics", "enabled", "rate", "expires_at", "signing_secret", "client_certs"});
      !known) {
    return std::move(known).error();
  }

  element value;
  std::string_view secret;
  if (fields["secret_sha256"].get(value) != simdjson::SUCCESS || value.get_string().get(secret) != simdjson::SUCCESS) {
    return invalid("'secret_sha256' is required: the hex SHA-256 of the key's secret (intake hash-key SECRET)");
  }
  auto digest = crypto::parse_sha256_hex(secret);
  if (!digest) return invalid("'secret_sha256' must be 64 hex digits");
  key.secret_sha256 = *digest;

  if (fields["topics"].get(value) == simdjson::SUCCESS) {
    simdjson::dom::array topics;
    if (value.get_array().get(topics) != simdjson::SUCCESS) return invalid("'topics' must be a list of topic globs");
    for (auto topic : topics) {
      std::string_view pattern;
      if (topic.get_string().get(pattern) != simdjson::SUCCESS) return invalid("'topics' must contain only strings");
      if (auto checked = names::check_topic_glob(pattern); !checked) {
        return invalid("topic glob '" + std::string(pattern) + "': " + checked.error().message);
      }
      key.topic_patterns.emplace_back(pattern);
    }
  }
  if (fields["enabled"].get(value) == simdjson::SUCCESS && value.get_bool().get(key.enabled) != simdjson::SUCCESS) {
    return invalid("'enabled' must be true or false");
  }
  if (fields["rate"].get(value) == simdjson::SUCCESS) {
    auto rate = parse_rate(value);
    if (!rate) return std::move(rate).error();
    key.rate = rate.value();
  }
  if (fields["expires_at"].get(value) == simdjson::SUCCESS) {
    auto expiry = parse_expiry(value);
    if (!expiry) return std::move(expiry).error();
    key.expires_at = expiry.value();
  }
  if (fields["signing_secret"].get(value) == simdjson::SUCCESS) {
    std::string_view signing;
    // The message never echoes the value: it is a secret.
    if (value.get_string().get(signing) != simdjson::SUCCESS || signing.size() < 16 || signing.size() > 256) {
      return invalid("'signing_secret' must be a string of 16 to 256 characters");
    }
    key.signing_secret = std::string(signing);
  }
  if (fields["client_certs"].get(value) == simdjson::SUCCESS) {
    simdjson::dom::array certs;
    constexpr const char* kShape =
        "'client_certs' must be a list of \"sha256:<64 hex digits>\" or \"san:<DNS or URI name>\"";
    if (value.get_array().get(certs) != simdjson::SUCCESS) return invalid(kShape);
    for (auto cert : certs) {
      std::string_view text;
      if (cert.get_string().get(text) != simdjson::SUCCESS) return invalid(kShape);
      std::string entry(text);
      if (entry.rfind("sha256:", 0) == 0) {
        std::string hex = entry.substr(7);
        std::erase(hex, ':');  // openssl x509 -fingerprint prints AB:CD:...
        for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!crypto::parse_sha256_hex(hex)) return invalid(kShape);
        entry = "sha256:" + hex;
      } else if (entry.rfind("san:", 0) != 0 || entry.size() == 4) {
        return invalid(kShape);
      }
      key.client_certs.push_back(std::move(entry));
    }
  }
  return key;
}

Result<TopicPolicy> parse_topic(simdjson::dom::parser& parser, std::string_view name, const std::string& text) {
  // The registry names the topic; a bad name is a config problem here, not a request's.
  if (auto checked = names::check_topic_name(name); !checked) return invalid(checked.error().message);
  auto parsed = require_object(parser, text);
  if (!parsed) return std::move(parsed).error();
  const object fields = parsed.value();
  if (auto known = known_fields(fields, {"max_record_bytes", "mode"}); !known) return std::move(known).error();
  TopicPolicy topic;
  element value;
  if (fields["max_record_bytes"].get(value) == simdjson::SUCCESS) {
    auto bytes = record_bytes(value, "max_record_bytes");
    if (!bytes) return std::move(bytes).error();
    topic.max_record_bytes = bytes.value();
  }
  if (fields["mode"].get(value) == simdjson::SUCCESS) {
    auto mode = delivery_mode(value, "mode");
    if (!mode) return std::move(mode).error();
    topic.mode = mode.value();
  }
  return topic;
}

Result<Settings> parse_settings(simdjson::dom::parser& parser, const std::string& text) {
  auto parsed = require_object(parser, text);
  if (!parsed) return std::move(parsed).error();
  const object fields = parsed.value();
  if (auto known = known_fields(fields, {"default_mode", "max_record_bytes", "signature_window_s"}); !known) {
    return std::move(known).error();
  }
  Settings settings;
  element value;
  if (fields["default_mode"].get(value) == simdjson::SUCCESS) {
    auto mode = delivery_mode(value, "default_mode");
    if (!mode) return std::move(mode).error();
    settings.default_mode = mode.value();
  }
  if (fields["max_record_bytes"].get(value) == simdjson::SUCCESS) {
    auto bytes = record_bytes(value, "max_record_bytes");
    if (!bytes) return std::move(bytes).error();
    settings.max_record_bytes = bytes.value();
  }
  if (fields["signature_window_s"].get(value) == simdjson::SUCCESS &&
      (value.get_int64().get(settings.signature_window_s) != simdjson::SUCCESS || settings.signature_window_s < 1 ||
       settings.signature_window_s > 3600)) {
    return invalid("'signature_window_s' must be a whole number of seconds from 1 to 3600");
  }
  return settings;
}

// Applies one registry entry to `config` (keys, topic policies, settings; brokers collected
// apart so they come out sorted and deduplicated).
Result<void> apply_entry(simdjson::dom::parser& parser, std::string_view name, const std::string& value, Config& config,
                         std::set<std::string>& brokers) {
  if (name.rfind("keys/", 0) == 0) {
    auto key = parse_key(parser, name.substr(5), value);
    if (!key) return std::move(key).error();
    const crypto::Sha256 digest = key->secret_sha256;
    for (const auto& cert : key->client_certs) {
      auto [named, fresh] = config.keys_by_cert.emplace(cert, digest);
      if (!fresh && !crypto::Sha256Equal{}(named->second, digest)) {
        return invalid("client certificate '" + cert + "' is listed by another key; a certificate stands for one key");
      }
    }
    auto [it, inserted] = config.keys.emplace(digest, std::move(key).value());
    if (!inserted) return invalid("same secret as key '" + it->second.id + "'; every key needs its own secret");
  } else if (name.rfind("topics/", 0) == 0) {
    auto topic = parse_topic(parser, name.substr(7), value);
    if (!topic) return std::move(topic).error();
    config.topics.emplace(std::string(name.substr(7)), topic.value());
  } else if (name == "settings") {
    auto settings = parse_settings(parser, value);
    if (!settings) return std::move(settings).error();
    config.settings = settings.value();
  } else if (name.rfind("brokers/", 0) == 0) {
    std::string address(name.substr(8));
    if (!names::is_broker_address(address))
      return invalid("broker must be named host:port (an IPv6 address as [addr]:port)");
    brokers.insert(std::move(address));
  } else {
    return invalid("unknown entry; expected keys/<key-id>, topics/<topic>, settings or brokers/<host:port>");
  }
  return {};
}

}  // namespace

namespace {

// Applies every entry of `tree` to a new Config. Stops at the first bad entry unless `problems`
// is given, which then gets every bad entry (entries are independent, so each is judged on its
// own; a Config with any problem is not for use).
Result<std::shared_ptr<Config>> build(const RawTree& tree, std::vector<EntryProblem>* problems,
                                      std::size_t* entries_ok) {
  auto config = std::make_shared<Config>();
  config->source = tree.source + ":" + tree.prefix;
  config->revision = tree.revision;
  config->content_hash = content_hash(tree);
  config->keys.reserve(tree.entries.size());

  simdjson::dom::parser parser;
  std::set<std::string> brokers;
  for (const auto& [relative, value] : tree.entries) {
    const std::string_view name(relative);
    // Folder markers ("keys/") that Consul's UI and `consul kv put x/` create carry no config.
    if (name.empty() || name.back() == '/') continue;
    if (auto applied = apply_entry(parser, name, value, *config, brokers); !applied) {
      // Every message names the full registry key, so an operator can find the entry.
      if (problems == nullptr) return invalid(tree.prefix + relative + ": " + applied.error().message);
      problems->push_back({tree.prefix + relative, applied.error().message});
    } else if (entries_ok != nullptr) {
      ++*entries_ok;
    }
  }
  config->brokers.assign(brokers.begin(), brokers.end());
  return config;
}

}  // namespace

Result<std::shared_ptr<Config>> build_config(const RawTree& tree) { return build(tree, nullptr, nullptr); }

TreeReport check_tree(const RawTree& tree) {
  TreeReport report;
  (void)build(tree, &report.problems, &report.entries_ok);
  return report;
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
