// The config_change diff names what changed by key id and topic name, and the line the plane
// writes for each published config carries the counts and never a secret or its digest.
#include "config/config_diff.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "config/plane.h"
#include "config/store.h"
#include "crypto/digest.h"
#include "log_capture.h"

namespace intake::config {
namespace {

using Names = std::vector<std::string>;

ApiKey key(std::string id, const std::string& secret, Names topics = {"events.*"}) {
  ApiKey made;
  made.id = std::move(id);
  made.secret_sha256 = crypto::sha256(secret);
  made.topic_patterns = std::move(topics);
  return made;
}

void add(Config& config, ApiKey made) { config.keys.emplace(made.secret_sha256, std::move(made)); }

TEST(ConfigDiff, NamesKeysAddedRemovedAndChangedSorted) {
  Config before;
  add(before, key("stays", "s-1"));
  add(before, key("goes", "s-2"));
  add(before, key("rights", "s-3"));
  add(before, key("rotated", "s-4"));
  add(before, key("limited", "s-5"));
  Config after;
  add(after, key("stays", "s-1"));
  add(after, key("zeta-new", "s-6"));
  add(after, key("alpha-new", "s-7"));
  add(after, key("rights", "s-3", {"events.*", "logs"}));
  add(after, key("rotated", "s-4-rotated"));
  auto limited = key("limited", "s-5");
  limited.rate = RateLimit{.records_per_sec = 10, .burst = 20, .bytes_per_sec = 0, .bytes_burst = 0};
  add(after, limited);

  const auto diff = diff_configs(before, after);
  EXPECT_EQ(diff.keys_added, (Names{"alpha-new", "zeta-new"}));
  EXPECT_EQ(diff.keys_removed, (Names{"goes"}));
  EXPECT_EQ(diff.keys_changed, (Names{"limited", "rights", "rotated"}));
  EXPECT_FALSE(diff.brokers_changed);
  EXPECT_FALSE(diff.settings_changed);
  EXPECT_TRUE(diff.topics_added.empty() && diff.topics_removed.empty() && diff.topics_changed.empty());
}

TEST(ConfigDiff, EveryPartOfAKeyCountsAsAChange) {
  const auto changed_by = [](auto edit) {
    Config before;
    add(before, key("k", "s"));
    Config after;
    auto edited = key("k", "s");
    edit(edited);
    add(after, edited);
    return diff_configs(before, after).keys_changed == Names{"k"};
  };
  EXPECT_TRUE(changed_by([](ApiKey& k) { k.enabled = false; }));
  EXPECT_TRUE(changed_by([](ApiKey& k) { k.expires_at = std::chrono::system_clock::time_point{}; }));
  EXPECT_TRUE(changed_by([](ApiKey& k) { k.signing_secret = "a-signing-secret-16"; }));
  EXPECT_TRUE(changed_by([](ApiKey& k) { k.client_certs = {"san:client.example"}; }));
  EXPECT_TRUE(changed_by(
      [](ApiKey& k) { k.rate = RateLimit{.records_per_sec = 1, .burst = 1, .bytes_per_sec = 5, .bytes_burst = 5}; }));
  EXPECT_FALSE(changed_by([](ApiKey& /*k*/) {}));
}

TEST(ConfigDiff, TopicsBrokersAndSettings) {
  Config before;
  before.topics["kept"] = TopicPolicy{.max_record_bytes = 10, .mode = std::nullopt};
  before.topics["resized"] = TopicPolicy{.max_record_bytes = 10, .mode = std::nullopt};
  before.topics["dropped"] = TopicPolicy{};
  before.brokers = {"127.0.0.1:9092"};
  Config after = before;
  after.topics.erase("dropped");
  after.topics["resized"].max_record_bytes = 20;
  after.topics["moded"] = TopicPolicy{.max_record_bytes = 0, .mode = DeliveryMode::kSync};
  auto diff = diff_configs(before, after);
  EXPECT_EQ(diff.topics_added, (Names{"moded"}));
  EXPECT_EQ(diff.topics_removed, (Names{"dropped"}));
  EXPECT_EQ(diff.topics_changed, (Names{"resized"}));
  EXPECT_FALSE(diff.brokers_changed);
  EXPECT_FALSE(diff.settings_changed);

  after.brokers = {"127.0.0.1:9092", "127.0.0.1:9093"};
  EXPECT_TRUE(diff_configs(before, after).brokers_changed);
  after = before;
  after.settings.default_mode = DeliveryMode::kSync;
  EXPECT_TRUE(diff_configs(before, after).settings_changed);
  after = before;
  after.settings.signature_window_s = 60;
  EXPECT_TRUE(diff_configs(before, after).settings_changed);
  after = before;
  after.settings.max_record_bytes = 99;
  EXPECT_TRUE(diff_configs(before, after).settings_changed);
}

TEST(ConfigDiff, JoinNamesStopsAtTheLimit) {
  EXPECT_EQ(join_names({}), "");
  EXPECT_EQ(join_names({"a", "b", "c"}), "a,b,c");
  EXPECT_EQ(join_names({"a", "b", "c", "d"}, 2), "a,b,+2 more");
}

RawTree tree(std::map<std::string, std::string> entries, std::string revision) {
  return RawTree{"intake/", std::move(entries), "consul", std::move(revision)};
}

std::string key_json(const std::string& secret, const std::string& extra = "") {
  return R"({"secret_sha256":")" + crypto::to_hex(crypto::sha256(secret)) + R"(","topics":["events.*"])" + extra + "}";
}

TEST(ConfigDiff, ThePlaneWritesOneConfigChangeLinePerPublishWithCountsAndNoSecret) {
  const std::string signing_secret = "signing-secret-0123456789";
  ConfigStore store;
  ConfigPlane plane(store);
  plane.on_tree(tree({{"keys/a", key_json("secret-a")}, {"keys/b", key_json("secret-b")}}, "10"));
  testing::LogCapture capture(logging::LogFormat::kJson);
  plane.on_tree(tree({{"keys/a", key_json("secret-a-rotated")},
                      {"keys/c", key_json("secret-c", R"(,"signing_secret":")" + signing_secret + R"(")")},
                      {"brokers/127.0.0.1:9092", ""},
                      {"topics/events.audit", R"({"max_record_bytes":100})"}},
                     "11"));
  plane.on_tree(tree({{"keys/a", key_json("secret-a-rotated")},
                      {"keys/c", key_json("secret-c", R"(,"signing_secret":")" + signing_secret + R"(")")},
                      {"brokers/127.0.0.1:9092", ""},
                      {"topics/events.audit", R"({"max_record_bytes":100})"}},
                     "12"));  // the same content at a new revision: no line
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u) << capture.text();
  simdjson::dom::parser parser;
  simdjson::dom::object line;
  ASSERT_EQ(parser.parse(lines[0]).get(line), simdjson::SUCCESS) << lines[0];
  EXPECT_EQ(std::string_view(line["event"].get_string()), "config_change");
  EXPECT_EQ(std::string_view(line["component"].get_string()), "config");
  EXPECT_EQ(std::string_view(line["source"].get_string()), "consul:intake/");
  EXPECT_EQ(std::string_view(line["revision"].get_string()), "11");
  EXPECT_EQ(std::uint64_t(line["version"].get_uint64()), store.current()->version);
  EXPECT_EQ(std::uint64_t(line["keys"].get_uint64()), 2u);
  EXPECT_EQ(std::string_view(line["keys_added"].get_string()), "c");
  EXPECT_EQ(std::string_view(line["keys_removed"].get_string()), "b");
  EXPECT_EQ(std::string_view(line["keys_changed"].get_string()), "a");
  EXPECT_EQ(std::string_view(line["topics_added"].get_string()), "events.audit");
  EXPECT_TRUE(bool(line["brokers_changed"].get_bool()));
  EXPECT_EQ(std::string_view(line["brokers"].get_string()), "127.0.0.1:9092");
  EXPECT_FALSE(bool(line["settings_changed"].get_bool()));
  EXPECT_NE(lines[0].find("keys +1 -1 ~1, topics +1 -0 ~0, brokers changed"), std::string::npos) << lines[0];
  for (const std::string secret : {"secret-a", "secret-a-rotated", "secret-b", "secret-c"}) {
    EXPECT_EQ(lines[0].find(secret), std::string::npos) << secret;
    const std::string digest = crypto::to_hex(crypto::sha256(secret));
    EXPECT_EQ(lines[0].find(digest), std::string::npos) << "digest of " << secret;
    EXPECT_EQ(lines[0].find(digest.substr(0, 16)), std::string::npos) << "part of the digest of " << secret;
  }
  EXPECT_EQ(lines[0].find(signing_secret), std::string::npos);
}

}  // namespace
}  // namespace intake::config
