#include "config/plane.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"

namespace intake::config {
namespace {

RawTree tree(std::map<std::string, std::string> entries, std::string revision = "1") {
  return RawTree{"intake/", std::move(entries), "consul", std::move(revision)};
}

std::string key_json(const std::string& secret) {
  return R"({"secret_sha256":")" + crypto::to_hex(crypto::sha256(secret)) + R"(","topics":["events.*"]})";
}

TEST(ConfigPlane, PublishesValidTreesAndKeepsTheLastGoodOnRejection) {
  ConfigStore store;
  ConfigPlane plane(store);
  EXPECT_FALSE(plane.registry_applied());
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "10"));
  EXPECT_TRUE(plane.registry_applied());
  const auto good = store.current();
  EXPECT_EQ(good->keys.size(), 1u);
  EXPECT_EQ(good->revision, "10");

  plane.on_tree(tree({{"keys/a", key_json("s-a")}, {"keys/b", "{oops"}}, "11"));
  EXPECT_EQ(store.current(), good);  // same snapshot object: nothing was published
  ASSERT_TRUE(store.last_rejected());
  EXPECT_EQ(store.last_rejected()->revision, "11");
  EXPECT_NE(store.last_rejected()->error.find("intake/keys/b"), std::string::npos);
  EXPECT_EQ(store.counters().rejected, 1u);

  plane.on_tree(tree({{"keys/a", key_json("s-a")}, {"keys/b", key_json("s-b")}}, "12"));
  EXPECT_EQ(store.current()->keys.size(), 2u);
  EXPECT_GT(store.current()->version, good->version);
}

TEST(ConfigPlane, UnchangedContentIsNotRepublished) {
  ConfigStore store;
  ConfigPlane plane(store);
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "10"));
  const auto version = store.current()->version;
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "11"));  // e.g. a Consul early return
  EXPECT_EQ(store.current()->version, version);
  EXPECT_EQ(store.counters().unchanged, 1u);
}

TEST(ConfigPlane, HealthBrokersMergeWithKvBrokersAndNotifyListeners) {
  ConfigStore store;
  std::vector<std::vector<std::string>> seen;
  store.on_publish([&](const Config& config) { seen.push_back(config.brokers); });
  ConfigPlane plane(store);
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9093"});  // before any tree: held
  EXPECT_TRUE(seen.empty());
  plane.on_tree(tree({{"brokers/127.0.0.1:9092", ""}}));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen.back(), (std::vector<std::string>{"127.0.0.1:9092", "127.0.0.1:9093"}));
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9094"});
  EXPECT_EQ(seen.back(), (std::vector<std::string>{"127.0.0.1:9092", "127.0.0.1:9094"}));
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9094"});  // same answer again
  EXPECT_EQ(seen.size(), 2u);
}

// A bad edit in the registry must not freeze the broker set: a broker change still applies,
// on top of the last tree that built.
TEST(ConfigPlane, BrokerChangesApplyWhileABadRegistryEditIsRejected) {
  ConfigStore store;
  std::vector<std::vector<std::string>> seen;
  store.on_publish([&](const Config& config) { seen.push_back(config.brokers); });
  ConfigPlane plane(store);
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "10"));
  plane.on_tree(tree({{"keys/a", key_json("s-a")}, {"keys/b", "{oops"}}, "11"));
  ASSERT_TRUE(store.last_rejected());
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9095"});
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), (std::vector<std::string>{"127.0.0.1:9095"}));
  EXPECT_EQ(store.current()->keys.size(), 1u);  // still the last good keys
  EXPECT_EQ(store.current()->revision, "10");
}

// config.source: none with broker_service: no tree ever arrives, so the health brokers apply
// to the YAML's keys (the static base) instead of waiting for one.
TEST(ConfigPlane, HealthBrokersApplyToTheStaticBaseWhenNoRegistryIsWatched) {
  ConfigStore store;
  std::vector<std::vector<std::string>> seen;
  store.on_publish([&](const Config& config) { seen.push_back(config.brokers); });
  auto yaml_keys = [] {
    auto config = std::make_shared<Config>();
    ApiKey key;
    key.id = "team";
    key.secret_sha256 = crypto::sha256("s-team");
    key.topic_patterns = {"events.*"};
    key.rate = RateLimit{10, 10, 0, 0};
    config->keys.emplace(key.secret_sha256, key);
    config->source = "file:intake.yaml";
    return config;
  };
  store.publish(yaml_keys());  // what the gateway publishes at start
  const auto at_start = store.current();
  ConfigPlane plane(store);
  plane.set_static_base(yaml_keys());

  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9093"});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.back(), (std::vector<std::string>{"127.0.0.1:9093"}));
  const auto applied = store.current();
  EXPECT_GT(applied->version, at_start->version);
  ASSERT_EQ(applied->keys.size(), 1u);
  const ApiKey* key = applied->find_key(crypto::sha256("s-team"));
  ASSERT_NE(key, nullptr);
  ASSERT_TRUE(key->rate.has_value());  // the YAML key kept its rate
  EXPECT_EQ(applied->source, "file:intake.yaml");
  EXPECT_FALSE(plane.registry_applied());  // no registry tree was applied

  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9093"});  // same answer again
  EXPECT_EQ(seen.size(), 2u);
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9094", "127.0.0.1:9093"});
  EXPECT_EQ(seen.back(), (std::vector<std::string>{"127.0.0.1:9093", "127.0.0.1:9094"}));
  EXPECT_EQ(store.current()->keys.size(), 1u);
}

// A deleted prefix or a misrouted agent answers with nothing: applying it would refuse every
// client. It is held, the keys stay, and the hold is counted once however often it repeats.
TEST(ConfigPlane, HoldsATreeThatWouldRemoveEveryKeyUntilKeysComeBack) {
  ConfigStore store;
  ConfigPlane plane(store);
  plane.on_tree(tree({{"keys/a", key_json("s-a")}, {"keys/b", key_json("s-b")}}, "10"));
  const auto good = store.current();
  ASSERT_EQ(good->keys.size(), 2u);
  EXPECT_FALSE(store.held());

  plane.on_tree(tree({}, "11"));
  EXPECT_EQ(store.current(), good);
  ASSERT_TRUE(store.held());
  EXPECT_EQ(store.held()->source, "consul");
  EXPECT_EQ(store.held()->revision, "11");
  EXPECT_NE(store.held()->reason.find("all 2 API keys"), std::string::npos) << store.held()->reason;
  EXPECT_NE(store.held()->reason.find("config.allow_empty_tree"), std::string::npos);
  EXPECT_EQ(store.counters().held, 1u);
  EXPECT_FALSE(store.last_rejected());  // held, not rejected: the tree itself is valid
  const auto since = store.held()->since;

  plane.on_tree(tree({}, "12"));  // the same empty answer again (e.g. a Consul early return)
  EXPECT_EQ(store.counters().held, 1u);
  EXPECT_EQ(store.held()->revision, "12");
  EXPECT_EQ(store.held()->since, since);
  // Topics and settings without keys still refuse everyone: held too, counted as a new answer.
  plane.on_tree(tree({{"topics/events.a", R"({"max_record_bytes":10})"}}, "13"));
  EXPECT_EQ(store.current(), good);
  EXPECT_EQ(store.counters().held, 2u);
  EXPECT_EQ(store.held()->since, since);

  // A broker change still applies, to the last good tree, and leaves the hold in place.
  plane.on_brokers("consul_health:kafka", {"127.0.0.1:9095"});
  EXPECT_EQ(store.current()->keys.size(), 2u);
  EXPECT_EQ(store.current()->revision, "10");
  EXPECT_TRUE(store.held());

  plane.on_tree(tree({{"keys/c", key_json("s-c")}}, "14"));  // fewer keys, but not none
  EXPECT_FALSE(store.held());
  EXPECT_EQ(store.current()->keys.size(), 1u);
  EXPECT_EQ(store.current()->revision, "14");
}

TEST(ConfigPlane, AllowEmptyTreeAppliesATreeWithoutKeys) {
  ConfigStore store;
  ConfigPlane plane(store, {.allow_empty_tree = true});
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "10"));
  plane.on_tree(tree({}, "11"));
  EXPECT_TRUE(store.current()->keys.empty());
  EXPECT_EQ(store.current()->revision, "11");
  EXPECT_FALSE(store.held());
  EXPECT_EQ(store.counters().held, 0u);
}

// Nothing to protect yet: a registry that has never held keys (a fresh deployment) applies
// as it is, over the YAML's bootstrap keys, as before.
TEST(ConfigPlane, AnEmptyFirstTreeAppliesAsBefore) {
  ConfigStore store;
  auto yaml = std::make_shared<Config>();
  ApiKey key;
  key.id = "bootstrap";
  key.secret_sha256 = crypto::sha256("s-yaml");
  yaml->keys.emplace(key.secret_sha256, key);
  store.publish(yaml);
  ConfigPlane plane(store);
  plane.on_tree(tree({}, "1"));
  EXPECT_TRUE(store.current()->keys.empty());
  EXPECT_TRUE(plane.registry_applied());
  EXPECT_FALSE(store.held());
  plane.on_tree(tree({{"topics/events.a", "{}"}}, "2"));  // still never had keys
  EXPECT_FALSE(store.held());
  EXPECT_EQ(store.current()->revision, "2");
}

// A held empty answer followed by a broken one: the broken one is rejected as usual, and the
// hold ends, since the registry's latest answer is no longer empty.
TEST(ConfigPlane, ARejectedTreeEndsTheHold) {
  ConfigStore store;
  ConfigPlane plane(store);
  plane.on_tree(tree({{"keys/a", key_json("s-a")}}, "10"));
  plane.on_tree(tree({}, "11"));
  ASSERT_TRUE(store.held());
  plane.on_tree(tree({{"keys/a", "{oops"}}, "12"));
  EXPECT_FALSE(store.held());
  ASSERT_TRUE(store.last_rejected());
  EXPECT_EQ(store.current()->revision, "10");
}

}  // namespace
}  // namespace intake::config

namespace intake::config {
namespace {

TEST(ConfigPlane, CountsEachSourcesErrorsAndLastAnswer) {
  ConfigStore store;
  ConfigPlane plane(store);
  EXPECT_TRUE(plane.source_health().empty());
  plane.on_source_error("consul_kv", "connection refused");
  plane.on_source_error("consul_kv", "connection refused");
  auto health = plane.source_health();
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0].source, "consul_kv");
  EXPECT_EQ(health[0].errors, 2u);
  EXPECT_EQ(health[0].last_success, std::chrono::system_clock::time_point{});

  const auto before = std::chrono::system_clock::now();
  plane.on_tree(RawTree{"intake/", {{"keys/a", key_json("s-a")}}, "consul_kv", "3"});
  plane.on_brokers("consul_health", {"k:9092"});
  health = plane.source_health();
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[0].errors, 2u);
  EXPECT_GE(health[0].last_success, before);
  EXPECT_EQ(health[1].source, "consul_health");
  EXPECT_EQ(health[1].errors, 0u);
  EXPECT_GE(health[1].last_success, before);
}

}  // namespace
}  // namespace intake::config
