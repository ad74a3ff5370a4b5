#include "sources/etcd.h"

#include <simdjson.h>
#include <boost/asio.hpp>

#include <algorithm>
#include <memory>

#include "encoding/base64.h"
#include "json/writer.h"

namespace intake::sources {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kSourceName = "etcd";

Error etcd_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }

std::string describe_answer(const HttpAnswer& answer) {
  return "etcd answered HTTP " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200);
}

}  // namespace

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
