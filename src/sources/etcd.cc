#include "sources/etcd.h"

#include <simdjson.h>
#include <boost/asio.hpp>

#include <algorithm>
#include <charconv>
#include <memory>

#include "encoding/base64.h"
#include "json/writer.h"

namespace intake::sources {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kSourceName = "etcd";

// etcd's gateway writes int64 fields as JSON strings ("revision":"42"); a number is taken too.
// An absent field is 0 (proto3 JSON omits defaults). Returns false for anything else.
bool read_int64(simdjson::dom::object object, std::string_view field, std::int64_t& out) {
  out = 0;
  simdjson::dom::element value;
  if (object[field].get(value) != simdjson::SUCCESS) return true;
  if (value.is_int64()) return value.get_int64().get(out) == simdjson::SUCCESS;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool read_bool(simdjson::dom::object object, std::string_view field) {
  bool value = false;
  return object[field].get_bool().get(value) == simdjson::SUCCESS && value;
}

std::string_view read_string(simdjson::dom::object object, std::string_view field) {
  std::string_view value;
  if (object[field].get_string().get(value) != simdjson::SUCCESS) return {};
  return value;
}

// Decodes the base64 field `field` of `object` (absent = empty). Returns false when the field
// is not a string or not base64.
bool read_base64(simdjson::dom::object object, std::string_view field, std::string& out) {
  out.clear();
  simdjson::dom::element value;
  if (object[field].get(value) != simdjson::SUCCESS || value.is_null()) return true;
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  auto decoded = encoding::base64_decode(text);
  if (!decoded) return false;
  out = std::move(*decoded);
  return true;
}

Error etcd_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }

// Reads one {"key","value","mod_revision",...} object of a range answer or watch event, as a
// PUT event.
Result<EtcdEvent> read_kv(simdjson::dom::object kv) {
  EtcdEvent out;
  if (!read_base64(kv, "key", out.key) || out.key.empty()) return etcd_error("a key-value has no valid base64 key");
  if (!read_base64(kv, "value", out.value)) return etcd_error("the value of key '" + out.key + "' is not base64");
  if (!read_int64(kv, "mod_revision", out.mod_revision)) {
    return etcd_error("key '" + out.key + "' has a bad mod_revision");
  }
  return out;
}

std::string describe_answer(const HttpAnswer& answer) {
  return "etcd answered HTTP " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200);
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

}  // namespace

std::string etcd_prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Result<EtcdRangePage> decode_etcd_range(std::string_view body, const std::string& prefix) {
  EtcdRangePage page;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(body.data(), body.size()).get_object().get(root) != simdjson::SUCCESS) {
    return etcd_error("etcd's range answer is not a JSON object");
  }
  simdjson::dom::object header;
  if (root["header"].get_object().get(header) != simdjson::SUCCESS || !read_int64(header, "revision", page.revision) ||
      page.revision <= 0) {
    return etcd_error("etcd's range answer has no valid header.revision");
  }
  page.more = read_bool(root, "more");
  simdjson::dom::element kvs;
  if (root["kvs"].get(kvs) != simdjson::SUCCESS) return page;  // no key in the range
  simdjson::dom::array items;
  if (kvs.get_array().get(items) != simdjson::SUCCESS) return etcd_error("etcd's range answer has a non-array kvs");
  for (auto item : items) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) {
      return etcd_error("etcd's range answer has a kvs entry that is no object");
    }
    auto kv = read_kv(object);
    if (!kv) return std::move(kv).error();
    page.last_key = kv->key;
    if (!starts_with(kv->key, prefix)) continue;
    page.entries.insert_or_assign(kv->key.substr(prefix.size()), std::move(kv->value));
  }
  return page;
}

Result<EtcdWatchMessage> decode_etcd_watch_message(std::string_view json_text) {
  EtcdWatchMessage message;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json_text.data(), json_text.size()).get_object().get(root) != simdjson::SUCCESS) {
    return etcd_error("a watch message is not a JSON object");
  }
  // The gateway reports a failed stream as {"error": {"grpc_code":..,"message":..}} (or a
  // plain string, as unary answers do).
  simdjson::dom::element error;
  if (root["error"].get(error) == simdjson::SUCCESS) {
    std::string_view text;
    simdjson::dom::object details;
    if (error.get_string().get(text) == simdjson::SUCCESS) {
      message.error = text;
    } else if (error.get_object().get(details) == simdjson::SUCCESS) {
      message.error = read_string(details, "message");
    }
    if (message.error.empty()) message.error = "unspecified error";
    return message;
  }
  simdjson::dom::object result;
  if (root["result"].get_object().get(result) != simdjson::SUCCESS) return etcd_error("a watch message has no result");
  simdjson::dom::object header;
  if (result["header"].get_object().get(header) == simdjson::SUCCESS &&
      !read_int64(header, "revision", message.revision)) {
    return etcd_error("a watch message has a bad header.revision");
  }
  message.created = read_bool(result, "created");
  message.canceled = read_bool(result, "canceled");
  message.cancel_reason = read_string(result, "cancel_reason");
  if (!read_int64(result, "compact_revision", message.compact_revision)) {
    return etcd_error("a watch message has a bad compact_revision");
  }
  simdjson::dom::element events;
  if (result["events"].get(events) != simdjson::SUCCESS) return message;
  simdjson::dom::array items;
  if (events.get_array().get(items) != simdjson::SUCCESS) return etcd_error("a watch message has a non-array events");
  for (auto item : items) {
    simdjson::dom::object event, kv;
    if (item.get_object().get(event) != simdjson::SUCCESS || event["kv"].get_object().get(kv) != simdjson::SUCCESS) {
      return etcd_error("a watch event has no kv object");
    }
    // proto3 JSON omits an enum at its default, so a PUT (0) usually has no "type" at all.
    const std::string_view type = read_string(event, "type");
    if (!type.empty() && type != "PUT" && type != "DELETE") {
      return etcd_error("a watch event has the unknown type '" + std::string(type) + "'");
    }
    auto decoded = read_kv(kv);
    if (!decoded) return std::move(decoded).error();
    if (type == "DELETE") decoded->type = EtcdEvent::Type::kDelete;
    message.events.push_back(std::move(decoded).value());
  }
  return message;
}

void apply_etcd_events(const std::vector<EtcdEvent>& events, const std::string& prefix,
                       std::map<std::string, std::string>& entries) {
  for (const auto& event : events) {
    if (!starts_with(event.key, prefix)) continue;
    std::string key = event.key.substr(prefix.size());
    if (event.type == EtcdEvent::Type::kDelete) {
      entries.erase(key);
    } else {
      entries.insert_or_assign(std::move(key), event.value);
    }
  }
}

// One watcher's state, owned by its coroutine. Touched only from the control context.
//
// No co_await below has a temporary with a destructor in its operand (g++ 12 coroutine bug,
// see http_client.cc): calls, bodies and handlers are named locals.
class EtcdSource::Session {
 public:
  Session(const EtcdOptions& settings, const HttpEndpoint& endpoint, WatchStats& stats,
          config::UpdateCallbacks& callbacks)
      : settings_(settings),
        endpoint_(endpoint),
        stats_(stats),
        callbacks_(callbacks),
        range_end_(etcd_prefix_range_end(settings.prefix)) {}

  asio::awaitable<void> run() {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer pause(executor);
    boost::system::error_code ignored;
    for (;;) {
      Result<void> done = co_await list();
      if (done) {
        report();
        done = co_await watch();
        if (done) continue;  // the watch fell behind a compaction: list again at once
      }
      stats_.count_error();
      const auto delay = backoff_.next();
      callbacks_.on_source_error(kSourceName,
                                 done.error().message + " (retrying in " + std::to_string(delay.count()) + " ms)");
      pause.expires_after(delay);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
  }

 private:
  bool uses_auth() const { return !settings_.username.empty(); }

  HttpCall make_call(const std::string& target, const std::string& body) const {
    HttpCall call;
    call.method = "POST";
    call.target = target;
    call.body = body;
    call.headers.emplace_back("Content-Type", "application/json");
    if (!token_.empty()) call.headers.emplace_back("Authorization", token_);
    return call;
  }

  // Trades username/password for a token.
  asio::awaitable<Result<void>> authenticate() {
    std::string body = "{\"name\":";
    json::append_string(body, settings_.username);
    body += ",\"password\":";
    json::append_string(body, settings_.password);
    body += "}";
    token_.clear();
    const std::string target = "/v3/auth/authenticate";
    const HttpCall call = make_call(target, body);
    stats_.count_request();
    Result<HttpAnswer> answer = co_await http_call(endpoint_, call, settings_.request_timeout);
    if (!answer) co_return std::move(answer).error();
    if (answer->status != 200) {
      co_return etcd_error("authenticating as '" + settings_.username + "': " + describe_answer(answer.value()));
    }
    simdjson::dom::parser parser;
    std::string_view token;
    if (parser.parse(answer->body).get_object()["token"].get_string().get(token) != simdjson::SUCCESS ||
        token.empty()) {
      co_return etcd_error("etcd's authenticate answer has no token");
    }
    token_ = token;
    co_return Result<void>();
  }

  // A unary POST with the current token, fetching one first when needed. A token etcd rejects
  // (401: expired, or etcd restarted and forgot it) is renewed and the call retried once.
  asio::awaitable<Result<HttpAnswer>> post(const std::string& target, const std::string& body) {
    for (int attempt = 0;; ++attempt) {
      if (uses_auth() && token_.empty()) {
        Result<void> authenticated = co_await authenticate();
        if (!authenticated) co_return std::move(authenticated).error();
      }
      const HttpCall call = make_call(target, body);
      stats_.count_request();
      Result<HttpAnswer> answer = co_await http_call(endpoint_, call, settings_.request_timeout);
      if (answer && answer->status == 401 && uses_auth() && attempt == 0) {
        token_.clear();
        continue;
      }
      co_return answer;
    }
  }

  // Reads the whole prefix into entries_/revision_, page by page; every page after the first
  // is read at the first one's revision, so the pages form one consistent snapshot.
  asio::awaitable<Result<void>> list() {
    const std::string target = "/v3/kv/range";
    std::map<std::string, std::string> fresh;
    std::int64_t at_revision = 0;
    std::string from = settings_.prefix;
    for (;;) {
      std::string body = "{\"key\":\"" + encoding::base64_encode(from) + "\",\"range_end\":\"" +
                         encoding::base64_encode(range_end_) + "\",\"limit\":\"" +
                         std::to_string(std::max<std::uint32_t>(settings_.page_keys, 1)) + "\"";
      if (at_revision > 0) body += ",\"revision\":\"" + std::to_string(at_revision) + "\"";
      body += "}";
      Result<HttpAnswer> answer = co_await post(target, body);
      if (!answer) co_return std::move(answer).error();
      if (answer->status != 200) co_return etcd_error("reading the prefix: " + describe_answer(answer.value()));
      Result<EtcdRangePage> page = decode_etcd_range(answer->body, settings_.prefix);
      if (!page) co_return std::move(page).error();
      for (auto& [key, value] : page->entries) fresh.insert_or_assign(key, std::move(value));
      if (at_revision == 0) at_revision = page->revision;
      if (!page->more || page->last_key.empty()) break;
      from = page->last_key;
      from.push_back('\0');  // the next key after the last one read
    }
    entries_ = std::move(fresh);
    revision_ = at_revision;
    co_return Result<void>();
  }

  // Watches from revision_ + 1, reporting the tree after each event batch, until the stream
  // ends. Succeeds when the watch fell behind a compaction (list again), else fails with why
  // the stream ended.
  asio::awaitable<Result<void>> watch() {
    std::string body = "{\"create_request\":{\"key\":\"" + encoding::base64_encode(settings_.prefix) +
                       "\",\"range_end\":\"" + encoding::base64_encode(range_end_) + "\",\"start_revision\":\"" +
                       std::to_string(revision_ + 1) + "\",\"progress_notify\":true}}";
    const std::string target = "/v3/watch";
    const HttpCall call = make_call(target, body);
    bool compacted = false;
    std::string failure;
    const JsonTextHandler on_text = [&](std::string_view text) {
      Result<EtcdWatchMessage> decoded = decode_etcd_watch_message(text);
      if (!decoded) {
        failure = decoded.error().message;
        return false;
      }
      EtcdWatchMessage& message = decoded.value();
      if (!message.error.empty()) {
        failure = "etcd ended the watch: " + message.error;
        return false;
      }
      if (message.compact_revision > 0) {
        compacted = true;
        return false;
      }
      if (message.canceled) {
        failure = "etcd cancelled the watch: " + message.cancel_reason;
        // A token that expired between the range read and the watch: get a new one next time.
        if (message.cancel_reason.find("Unauthenticated") != std::string::npos) token_.clear();
        return false;
      }
      if (message.created) backoff_.reset();
      if (!message.events.empty()) {
        apply_etcd_events(message.events, settings_.prefix, entries_);
        revision_ = std::max(message.revision, message.events.back().mod_revision);
        report();
      }
      return true;
    };
    stats_.count_request();
    Result<HttpAnswer> answer =
        co_await http_stream(endpoint_, call, settings_.request_timeout, settings_.watch_idle_timeout, on_text);
    if (compacted) co_return Result<void>();
    if (!failure.empty()) co_return etcd_error(failure);
    if (!answer) co_return std::move(answer).error();
    if (answer->status == 401) token_.clear();
    if (answer->status != 200) co_return etcd_error("watching the prefix: " + describe_answer(answer.value()));
    co_return etcd_error("etcd ended the watch stream");
  }

  void report() {
    config::RawTree tree;
    tree.prefix = settings_.prefix;
    tree.entries = entries_;
    tree.source = std::string(kSourceName);
    tree.revision = std::to_string(revision_);
    stats_.count_snapshot(tree.revision);
    callbacks_.on_tree(std::move(tree));
  }

  const EtcdOptions& settings_;
  const HttpEndpoint& endpoint_;
  WatchStats& stats_;
  config::UpdateCallbacks& callbacks_;
  const std::string range_end_;
  std::string token_;
  std::map<std::string, std::string> entries_;  // keys relative to the prefix
  std::int64_t revision_ = 0;
  Backoff backoff_;
};

EtcdSource::EtcdSource(EtcdOptions options)
    : options_(std::move(options)), endpoint_(parse_http_address(options_.address, "config.etcd.address")) {
  if (options_.prefix.empty() || options_.prefix.back() != '/') options_.prefix += '/';
}

void EtcdSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  auto session = std::make_shared<Session>(options_, endpoint_, stats_, callbacks);
  asio::co_spawn(
      control, [session]() { return session->run(); }, asio::detached);
}

}  // namespace intake::sources
