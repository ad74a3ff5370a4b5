#include "config/builder.h"

#include <gtest/gtest.h>

#include "crypto/digest.h"

namespace intake::config {
namespace {

const std::string kDigestA = crypto::to_hex(crypto::sha256("secret-a"));
const std::string kDigestB = crypto::to_hex(crypto::sha256("secret-b"));

RawTree tree(std::map<std::string, std::string> entries) {
  RawTree raw;
  raw.prefix = "intake/";
  raw.source = "consul";
  raw.revision = "42";
  raw.entries = std::move(entries);
  return raw;
}

std::string key_json(const std::string& digest, const std::string& extra = "") {
  return R"({"secret_sha256":")" + digest + R"(","topics":["events.*"])" + extra + "}";
}

std::string error_of(const RawTree& raw) {
  auto built = build_config(raw);
  return built ? "(accepted)" : built.error().message;
}

TEST(BuildConfig, BuildsKeysTopicsSettingsAndBrokers) {
  auto built = build_config(tree({
      {"keys/team-a", key_json(kDigestA, R"(,"enabled":false,"rate":{"per_sec":500,"burst":1000})")},
      {"keys/team-b", key_json(kDigestB)},
      {"topics/events.click", R"({"max_record_bytes":2048,"mode":"sync"})"},
      {"settings", R"({"default_mode":"async","max_record_bytes":4096})"},
      {"brokers/127.0.0.1:19092", ""},
      {"brokers/kafka-2.internal:9092", "null"},
      {"keys/", ""},  // a folder marker
  }));
  ASSERT_TRUE(built) << built.error().message;
  const Config& config = *built.value();
  ASSERT_EQ(config.keys.size(), 2u);
  const ApiKey* a = config.find_key(crypto::sha256("secret-a"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "team-a");
  EXPECT_FALSE(a->enabled);
  ASSERT_TRUE(a->rate);
  EXPECT_EQ(a->rate->records_per_sec, 500);
  EXPECT_EQ(a->rate->burst, 1000);
  EXPECT_EQ(config.topics.at("events.click").max_record_bytes, 2048u);
  EXPECT_EQ(config.topics.at("events.click").mode, DeliveryMode::kSync);
  EXPECT_EQ(config.settings.max_record_bytes, 4096u);
  EXPECT_EQ(config.brokers, (std::vector<std::string>{"127.0.0.1:19092", "kafka-2.internal:9092"}));
  EXPECT_EQ(config.source, "consul:intake/");
  EXPECT_EQ(config.revision, "42");
  EXPECT_EQ(config.content_hash.size(), 64u);
}

TEST(BuildConfig, BrokerKeysMayNameBracketedIpv6Addresses) {
  auto built = build_config(tree({{"brokers/[::1]:9092", ""}, {"brokers/kafka-1:9092", ""}}));
  ASSERT_TRUE(built) << built.error().message;
  EXPECT_EQ(built.value()->brokers, (std::vector<std::string>{"[::1]:9092", "kafka-1:9092"}));
  EXPECT_NE(error_of(tree({{"brokers/::1:9092", ""}})).find("[addr]:port"), std::string::npos);
}

TEST(BuildConfig, EmptyTreeIsAnEmptyConfigNotAnError) {
  auto built = build_config(tree({}));
  ASSERT_TRUE(built);
  EXPECT_TRUE(built.value()->keys.empty());
}

TEST(BuildConfig, RejectionsNameTheRegistryKeyAndTheProblem) {
  EXPECT_EQ(error_of(tree({{"keys/a", "{not json"}})).rfind("intake/keys/a: value is not valid JSON", 0), 0u);
  EXPECT_EQ(error_of(tree({{"keys/a", "[1]"}})), "intake/keys/a: value must be a JSON object");
  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA, R"(,"topcis":[])")}})).find("unknown field 'topcis'"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", R"({"topics":["x"]})"}})).find("intake/keys/a: 'secret_sha256' is required"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", R"({"secret_sha256":"abc"})"}})).find("64 hex digits"), std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", R"({"secret_sha256":")" + kDigestA + R"(","topics":["bad/glob"]})"}}))
                .find("topic glob 'bad/glob'"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA, R"(,"rate":{"per_sec":-5})")}}))
                .find("'rate.per_sec' must be a number from"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA, R"(,"rate":{"per_sec":1e12})")}}))
                .find("'rate.per_sec' must be a number from 0.001 to 10000000, got 1000000000000"),
            std::string::npos);
  EXPECT_NE(
      error_of(tree({{"keys/a", key_json(kDigestA, R"(,"enabled":"yes")")}})).find("'enabled' must be true or false"),
      std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA)}, {"keys/b", key_json(kDigestA)}}))
                .find("intake/keys/b: same secret as key 'a'"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/bad id", key_json(kDigestA)}})).find("key id may contain only"), std::string::npos);
  EXPECT_NE(error_of(tree({{"topics/a", R"({"mode":"sometimes"})"}})).find("intake/topics/a: 'mode' must be"),
            std::string::npos);
  EXPECT_NE(
      error_of(tree({{"topics/a", R"({"max_record_bytes":0})"}})).find("'max_record_bytes' must be a whole number"),
      std::string::npos);
  EXPECT_NE(error_of(tree({{"settings", R"({"default_mode":1})"}})).find("intake/settings: 'default_mode'"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"brokers/nope", ""}})).find("intake/brokers/nope: broker must be named host:port"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"brokers/h:99999", ""}})).find("host:port"), std::string::npos);
  EXPECT_NE(error_of(tree({{"brokers/a:1,b:2", ""}})).find("intake/brokers/a:1,b:2: broker must be named host:port"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"stuff", "{}"}})).find("intake/stuff: unknown entry"), std::string::npos);
}

// Rates the token bucket could not represent exactly (a tiny rate, a huge burst) are typos,
// refused with the field and its range.
TEST(BuildConfig, RateValuesOutsideTheirRangeAreRejectedNamingFieldAndRange) {
  const auto rate_error = [](const std::string& rate) {
    return error_of(tree({{"keys/a", key_json(kDigestA, R"(,"rate":)" + rate)}}));
  };
  EXPECT_EQ(rate_error(R"({"per_sec":1e-9})"),
            "intake/keys/a: 'rate.per_sec' must be a number from 0.001 to 10000000, got 1e-09");
  EXPECT_EQ(rate_error(R"({"per_sec":0})"),
            "intake/keys/a: 'rate.per_sec' must be a number from 0.001 to 10000000, got 0");
  EXPECT_EQ(rate_error(R"({"per_sec":10,"burst":1e300})"),
            "intake/keys/a: 'rate.burst' must be a number from 1 to 600000000, got 1e+300");
  EXPECT_EQ(rate_error(R"({"per_sec":10,"burst":0.5})"),
            "intake/keys/a: 'rate.burst' must be a number from 1 to 600000000, got 0.5");
  EXPECT_EQ(rate_error(R"({"per_sec":10,"bytes_per_sec":0.5})"),
            "intake/keys/a: 'rate.bytes_per_sec' must be a number from 1 to 10737418240, got 0.5");
  EXPECT_EQ(rate_error(R"({"per_sec":10,"bytes_per_sec":100,"bytes_burst":1e19})"),
            "intake/keys/a: 'rate.bytes_burst' must be a number from 1 to 644245094400, got 1e+19");
  EXPECT_EQ(rate_error(R"({"per_sec":"fast"})"),
            "intake/keys/a: 'rate.per_sec' must be a number from 0.001 to 10000000");
}

TEST(BuildConfig, RateValuesAtTheirBoundsAreAccepted) {
  auto built = build_config(tree({{"keys/a", key_json(kDigestA, R"(,"rate":{"per_sec":0.001,"burst":600000000})")},
                                  {"keys/b", key_json(kDigestB, R"(,"rate":{"per_sec":0.5})")}}));
  ASSERT_TRUE(built) << built.error().message;
  const ApiKey* a = built.value()->find_key(crypto::sha256("secret-a"));
  ASSERT_TRUE(a && a->rate);
  EXPECT_EQ(a->rate->records_per_sec, 0.001);
  EXPECT_EQ(a->rate->burst, 6e8);
  // The default burst (one second's worth) is at least one record, or no request could pass.
  const ApiKey* b = built.value()->find_key(crypto::sha256("secret-b"));
  ASSERT_TRUE(b && b->rate);
  EXPECT_EQ(b->rate->burst, 1);
}

// Found by fuzzing (tests/fuzz/config_builder_fuzz.cc): a date before 1970 went on to
// overflow system_clock's nanoseconds (undefined behaviour) instead of being refused.
TEST(BuildConfig, ExpiryDatesBefore1970AreRejectedLikeNonPositiveUnixTimes) {
  for (const std::string date : {"0454-01-31T23:59:59Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"}) {
    EXPECT_NE(error_of(tree({{"keys/team-a", key_json(kDigestA, R"(,"expires_at":")" + date + "\"")}}))
                  .find("'expires_at' must be after 1970-01-01T00:00:00Z"),
              std::string::npos)
        << date;
  }
  EXPECT_EQ(error_of(tree({{"keys/team-a", key_json(kDigestA, R"(,"expires_at":"1970-01-01T00:00:01Z")")}})),
            "(accepted)");
}

TEST(BuildConfig, OneBadEntryRejectsTheWholeTree) {
  auto built = build_config(tree({{"keys/a", key_json(kDigestA)}, {"keys/b", "{"}}));
  EXPECT_FALSE(built);
}

// The built config carries the hash of its entries alone: the same entries from another
// revision, source or prefix build to the same hash, and a changed entry to another. (Two
// std::map literals differing only in the order they are written in are the same map, so
// that is no test of ordering.)
TEST(ContentHash, TheBuiltConfigCarriesTheHashOfItsEntriesOnly) {
  const RawTree one = tree({{"keys/a", key_json(kDigestA)}, {"settings", "{}"}});
  auto built = build_config(one);
  ASSERT_TRUE(built) << built.error().message;
  EXPECT_EQ(built.value()->content_hash, content_hash(one));
  EXPECT_EQ(built.value()->content_hash.size(), 64u);

  RawTree elsewhere = one;
  elsewhere.revision = "99";
  elsewhere.source = "etcd";
  elsewhere.prefix = "other/";
  auto built_elsewhere = build_config(elsewhere);
  ASSERT_TRUE(built_elsewhere) << built_elsewhere.error().message;
  EXPECT_EQ(built_elsewhere.value()->content_hash, built.value()->content_hash);

  RawTree changed = one;
  changed.entries["settings"] = R"({"default_mode":"async"})";
  auto built_changed = build_config(changed);
  ASSERT_TRUE(built_changed) << built_changed.error().message;
  EXPECT_NE(built_changed.value()->content_hash, built.value()->content_hash);
}

// The same bytes cut differently into keys and values, or into entries, hash differently.
TEST(ContentHash, TheSameBytesCutIntoOtherKeysAndValuesHashDifferently) {
  const RawTree one = tree({{"keys/a", "x"}, {"keys/b", "y"}});  // keys/a x keys/b y
  EXPECT_NE(content_hash(one), content_hash(tree({{"keys/a", "xkeys/by"}})));
  EXPECT_NE(content_hash(one), content_hash(tree({{"keys/ax", ""}, {"keys/b", "y"}})));
  EXPECT_NE(content_hash(one), content_hash(tree({{"keys/a", "x"}})));
}

TEST(BuildConfig, ClientCertsMapFingerprintsAndSansToTheirKey) {
  const std::string hex(64, 'a');
  auto built = build_config(tree({
      {"keys/team-a", key_json(kDigestA, R"(,"client_certs":["sha256:)" + std::string(64, 'A') +
                                             R"(","san:spiffe://example.org/a"])")},
      {"keys/team-b", key_json(kDigestB)},
  }));
  ASSERT_TRUE(built) << built.error().message;
  const Config& config = *built.value();
  const ApiKey* by_hash = config.find_key_by_cert(hex, {});
  ASSERT_NE(by_hash, nullptr);
  EXPECT_EQ(by_hash->id, "team-a");
  const ApiKey* by_san = config.find_key_by_cert(std::string(64, 'b'), {"other", "spiffe://example.org/a"});
  ASSERT_NE(by_san, nullptr);
  EXPECT_EQ(by_san->id, "team-a");
  EXPECT_EQ(config.find_key_by_cert(std::string(64, 'b'), {"other"}), nullptr);

  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA, R"(,"client_certs":["md5:ab"])")}})).find("client_certs"),
            std::string::npos);
  EXPECT_NE(error_of(tree({{"keys/a", key_json(kDigestA, R"(,"client_certs":["san:x"])")},
                           {"keys/b", key_json(kDigestB, R"(,"client_certs":["san:x"])")}}))
                .find("listed by another key"),
            std::string::npos);
}

TEST(CheckTree, ReportsEveryBadEntryWithItsRegistryKeyAndCountsTheGoodOnes) {
  const auto raw = tree({{"keys/good-a", key_json(kDigestA)},
                         {"keys/bad-json", "{not json"},
                         {"keys/bad-glob", R"({"secret_sha256":")" + kDigestB + R"(","topics":["events/#"]})"},
                         {"keys/", ""},
                         {"settings", R"({"default_mode":"sync"})"},
                         {"keys/no-secret", R"({"topics":["x"]})"}});
  const auto report = check_tree(raw);
  EXPECT_EQ(report.entries_ok, 2u);
  ASSERT_EQ(report.problems.size(), 3u);
  EXPECT_EQ(report.problems[0].key, "intake/keys/bad-glob");
  EXPECT_NE(report.problems[0].reason.find("topic glob 'events/#'"), std::string::npos) << report.problems[0].reason;
  EXPECT_EQ(report.problems[1].key, "intake/keys/bad-json");
  EXPECT_EQ(report.problems[1].reason.rfind("value is not valid JSON", 0), 0u) << report.problems[1].reason;
  EXPECT_EQ(report.problems[2].key, "intake/keys/no-secret");
  EXPECT_EQ(report.problems[2].reason.rfind("'secret_sha256' is required", 0), 0u);
  // The watcher's rule is unchanged: any bad entry rejects the tree, naming the first.
  EXPECT_EQ(error_of(raw), "intake/keys/bad-glob: " + report.problems[0].reason);
}

TEST(CheckTree, AGoodTreeHasNoProblems) {
  const auto report = check_tree(tree({{"keys/a", key_json(kDigestA)}, {"brokers/k1:9092", ""}}));
  EXPECT_EQ(report.entries_ok, 2u);
  EXPECT_TRUE(report.problems.empty());
}

}  // namespace
}  // namespace intake::config
