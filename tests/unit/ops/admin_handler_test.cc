// GET /admin/config answers with the exact body operators and their scripts rely on.
#include "ops/admin_handler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "config/store.h"
#include "crypto/digest.h"

namespace intake::ops {
namespace {

class AdminToken final : public http::HeaderSource {
 public:
  std::string_view find(std::string_view name) const override {
    return name == "Authorization" ? std::string_view("Bearer admin-token") : std::string_view();
  }
  void for_each(const std::function<void(std::string_view, std::string_view)>& visit) const override {
    visit("Authorization", "Bearer admin-token");
  }
};

class FixedSource final : public sources::Source {
 public:
  std::string name() const override { return "consul:intake/"; }
  void start(boost::asio::io_context& /*control*/, config::UpdateCallbacks& /*callbacks*/) override {}
  sources::SourceStats stats() const override { return {.requests = 7, .errors = 1, .snapshots = 3, .revision = "42"}; }
};

config::ApiKey key(std::string id, std::string secret) {
  config::ApiKey made;
  made.id = std::move(id);
  made.secret_sha256 = crypto::sha256(secret);
  return made;
}

http::Response get(AdminConfigHandler& handler) {
  AdminToken token;
  http::Request request;
  request.method = http::Method::kGet;
  request.path = "/admin/config";
  request.headers = &token;
  return handler.handle(request, {});
}

TEST(AdminConfigHandler, DescribesTheConfigInForceWithoutSecrets) {
  config::ConfigStore store;
  auto config = std::make_shared<config::Config>();
  auto plain = key("b-plain", "secret-b");
  plain.topic_patterns = {"events.*", "logs"};
  auto limited = key("a-limited", "secret-a");
  limited.enabled = false;
  limited.rate = config::RateLimit{.records_per_sec = 500, .burst = 1000.5, .bytes_per_sec = 1e6, .bytes_burst = 2e6};
  limited.expires_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'064'800'123));
  limited.signing_secret = "a-signing-secret-16";
  auto counted = key("c-counted", "secret-c");
  counted.rate = config::RateLimit{.records_per_sec = 0.25, .burst = 2, .bytes_per_sec = 0, .bytes_burst = 0};
  for (auto* each : {&plain, &limited, &counted}) config->keys.emplace(each->secret_sha256, *each);
  config->topics["orders"] = {.max_record_bytes = 2048, .mode = config::DeliveryMode::kSync};
  config->topics["clicks"] = {.max_record_bytes = 0, .mode = std::nullopt};
  config->settings.max_record_bytes = 1'048'576;
  config->brokers = {"kafka-1:9092", "kafka-2:9092"};
  config->content_hash = "abc123";
  config->source = "consul:intake/";
  config->revision = "41";
  store.publish(config);
  store.reject({.source = "consul:intake/",
                .revision = "43",
                .error = "keys/x: \"rate\" must be an object",
                .at = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'064'801))});
  FixedSource source;
  AdminConfigHandler handler(crypto::sha256("admin-token"), store, {&source},
                             [] { return std::vector<std::string>{"kafka-1:9092"}; });

  const auto response = get(handler);
  EXPECT_EQ(response.status, 200);
  const std::string applied_at = format_time(store.current()->applied_at);
  EXPECT_EQ(response.body,
            R"({"version":1,"content_hash":"abc123","source":"consul:intake/","revision":"41","applied_at":")" +
                applied_at +
                R"(","counters":{"published":1,"rejected":1,"unchanged":0,"held":0},)"
                R"("last_rejected":{"source":"consul:intake/","revision":"43","at":"2025-11-25T10:00:01.000Z",)"
                R"("error":"keys/x: \"rate\" must be an object"},"held":null,)"
                R"("sources":[{"name":"consul:intake/","requests":7,"errors":1,"snapshots":3,"revision":"42"}],)"
                R"("brokers":{"configured":["kafka-1:9092","kafka-2:9092"],"producer":["kafka-1:9092"]},)"
                R"("settings":{"default_mode":"async","max_record_bytes":1048576,"signature_window_s":300},)"
                R"("topics":{"clicks":{"max_record_bytes":0},"orders":{"max_record_bytes":2048,"mode":"sync"}},)"
                R"("keys":[{"id":"a-limited","topics":[],"enabled":false,)"
                R"("rate":{"per_sec":500,"burst":1000.5,"bytes_per_sec":1000000,"bytes_burst":2000000},)"
                R"("expires_at":"2025-11-25T10:00:00.123Z","signed":true},)"
                R"({"id":"b-plain","topics":["events.*","logs"],"enabled":true,"signed":false},)"
                R"({"id":"c-counted","topics":[],"enabled":true,"rate":{"per_sec":0.25,"burst":2},"signed":false}]})");
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
}

TEST(AdminConfigHandler, WithoutRejectionsOrSourcesTheirPlacesStayEmpty) {
  config::ConfigStore store;
  AdminConfigHandler handler(crypto::sha256("admin-token"), store, {}, [] { return std::vector<std::string>{}; });
  const auto body = get(handler).body;
  EXPECT_NE(body.find(R"("last_rejected":null,"held":null,"sources":[],"brokers":{"configured":[],"producer":[]},)"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("topics":{},"keys":[]})"), std::string::npos) << body;
}

TEST(AdminConfigHandler, ShowsAHeldEmptyTreeWithItsReasonAndSince) {
  config::ConfigStore store;
  store.hold({.source = "consul",
              .revision = "77",
              .content_hash = "e3b0",
              .reason = "would remove all 2 API keys",
              .since = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'064'802))});
  AdminConfigHandler handler(crypto::sha256("admin-token"), store, {}, [] { return std::vector<std::string>{}; });
  const auto body = get(handler).body;
  EXPECT_NE(body.find(R"("unchanged":0,"held":1},)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("held":{"source":"consul","revision":"77","since":"2025-11-25T10:00:02.000Z",)"
                      R"("reason":"would remove all 2 API keys"},)"),
            std::string::npos)
      << body;
}

TEST(AdminConfigHandler, RefusesAWrongTokenAndIsOffWithoutOne) {
  config::ConfigStore store;
  AdminConfigHandler wrong(crypto::sha256("another-token"), store, {}, [] { return std::vector<std::string>{}; });
  EXPECT_EQ(get(wrong).status, 401);
  AdminConfigHandler off(std::nullopt, store, {}, [] { return std::vector<std::string>{}; });
  const auto response = get(off);
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body,
            R"({"error":{"code":"not_found","message":"the admin API is off: set admin.token_sha256 in the YAML"}})");
}

}  // namespace
}  // namespace intake::ops
