#include "config/static_config.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "config/yaml_json.h"

namespace intake::config {
namespace {

constexpr const char* kDemoDigest = "2fa68b16f48fb2fd234756d1ca0a2e1a7dda96422ccaa33e3ec7635a88b863e3";

std::string message_of(const std::string& yaml) {
  try {
    parse_static_config(yaml, "test.yaml");
  } catch (const StaticConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(StaticConfig, ParsesAFullFile) {
  const auto config = parse_static_config(std::string(R"(
server: {listen: "0.0.0.0:9090", threads: 3, max_body_bytes: 2048, idle_timeout_ms: 500}
kafka:
  bootstrap_servers: "a:1,b:2"
  properties: {linger.ms: "10"}
keys:
  team-a: {secret_sha256: )") + kDemoDigest + R"(, topics: ["events.*"], enabled: false}
)",
                                          "test.yaml");
  EXPECT_EQ(config.server.address, "0.0.0.0");
  EXPECT_EQ(config.server.port, 9090);
  EXPECT_EQ(config.server.threads, 3u);
  EXPECT_EQ(config.server.max_body_bytes, 2048u);
  EXPECT_EQ(config.kafka.bootstrap_servers, "a:1,b:2");
  ASSERT_EQ(config.kafka.properties.size(), 1u);
  EXPECT_EQ(config.kafka.properties[0].first, "linger.ms");
  EXPECT_EQ(config.key_count, 1u);
  const auto built = config_from_static(config);
  ASSERT_EQ(built->keys.size(), 1u);
  const ApiKey& key = built->keys.begin()->second;
  EXPECT_EQ(key.id, "team-a");
  EXPECT_FALSE(key.enabled);
  EXPECT_EQ(key.topic_patterns, std::vector<std::string>{"events.*"});
  EXPECT_EQ(built->source, "file:test.yaml");
}

// One parser for keys: every field a registry key takes works in the YAML too, with the same
// rules and the same messages.
TEST(StaticConfig, YamlKeysTakeEveryFieldARegistryKeyTakes) {
  const auto config = parse_static_config(std::string(R"(
kafka: {bootstrap_servers: "a:1"}
keys:
  signer:
    secret_sha256: )") + kDemoDigest + R"(
    topics: [events.*]
    rate: {per_sec: 50, burst: 100, bytes_per_sec: 1000000, bytes_burst: 2000000}
    expires_at: "2031-01-31T23:59:59Z"
    signing_secret: "a-signing-secret-of-enough-length"
)",
                                          "test.yaml");
  const auto built = config_from_static(config);
  ASSERT_EQ(built->keys.size(), 1u);
  const ApiKey& key = built->keys.begin()->second;
  ASSERT_TRUE(key.rate.has_value());
  EXPECT_EQ(key.rate->records_per_sec, 50);
  EXPECT_EQ(key.rate->burst, 100);
  EXPECT_EQ(key.rate->bytes_per_sec, 1000000);
  ASSERT_TRUE(key.expires_at.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(key.expires_at->time_since_epoch()).count(), 1927670399);
  EXPECT_EQ(key.signing_secret, "a-signing-secret-of-enough-length");
  // The registry's rules, and its messages, in the YAML's spelling.
  const std::string base = std::string("kafka: {bootstrap_servers: x}\nkeys: {a: {secret_sha256: ") + kDemoDigest;
  EXPECT_NE(message_of(base + ", rate: {per_sec: 0.000001}}}").find("test.yaml: keys.a: 'rate.per_sec' must be"),
            std::string::npos);
  EXPECT_NE(message_of(base + ", signing_secret: short}}").find("'signing_secret' must be a string of 16"),
            std::string::npos);
  EXPECT_NE(message_of(base + ", expires: soon}}").find("unknown field 'expires'"), std::string::npos);
}

TEST(StaticConfig, ConnectionLimitsAndPhaseClocksComeFromTheServerSection) {
  const auto config = parse_static_config(R"(
server:
  max_connections: 500
  max_connections_per_ip: 0
  max_inflight_body_bytes: 1048576
  header_timeout_ms: 2000
  body_timeout_ms: 3000
  body_min_bytes_per_s: 0
  write_timeout_ms: 4000
  retry_after_s: 7
kafka: {bootstrap_servers: "a:1"}
)",
                                          "test.yaml");
  EXPECT_EQ(config.server.max_connections, 500u);
  EXPECT_EQ(config.server.max_connections_per_ip, 0u);
  EXPECT_EQ(config.server.max_inflight_body_bytes, 1048576u);
  EXPECT_EQ(config.server.header_timeout_ms, 2000u);
  EXPECT_EQ(config.server.body_timeout_ms, 3000u);
  EXPECT_EQ(config.server.body_min_bytes_per_s, 0u);
  EXPECT_EQ(config.server.write_timeout_ms, 4000u);
  EXPECT_EQ(config.server.retry_after_s, 7u);
  // Unset: the defaults of http/server_options.h.
  const auto defaults = parse_static_config("kafka: {bootstrap_servers: x}", "test.yaml");
  EXPECT_EQ(defaults.server.max_connections, http::ServerOptions{}.max_connections);
  EXPECT_EQ(defaults.server.header_timeout_ms, 10'000u);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {header_timeout_ms: 5}")
                .find("server.header_timeout_ms: must be between 100"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {max_inflight_body_bytes: 10}")
                .find("server.max_inflight_body_bytes"),
            std::string::npos);
}

TEST(StaticConfig, TlsComesFromTheServerSectionAndIsAbsentByDefault) {
  const auto config = parse_static_config(R"(
server:
  tls: {cert_file: /c.pem, key_file: /k.pem, client_ca_file: /ca.pem, client_auth: required, reload_interval_ms: 250}
kafka: {bootstrap_servers: "a:1"}
)",
                                          "test.yaml");
  ASSERT_TRUE(config.server.tls);
  EXPECT_EQ(config.server.tls->cert_file, "/c.pem");
  EXPECT_EQ(config.server.tls->key_file, "/k.pem");
  EXPECT_EQ(config.server.tls->client_ca_file, "/ca.pem");
  EXPECT_EQ(config.server.tls->client_auth, http::TlsOptions::ClientAuth::kRequired);
  EXPECT_EQ(config.server.tls->reload_interval_ms, 250u);
  EXPECT_FALSE(parse_static_config("kafka: {bootstrap_servers: x}", "test.yaml").server.tls);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {tls: {cert_file: /c}}").find("server.tls.key_file"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {tls: {cert_file: /c, key_file: /k, client_auth: "
                       "optional}}")
                .find("server.tls.client_ca_file"),
            std::string::npos);
}

TEST(StaticConfig, ExampleFileInTheRepoIsValid) {
  const auto config = load_static_config(INTAKE_SOURCE_DIR "/examples/intake.yaml");
  EXPECT_EQ(config.key_count, 1u);
  EXPECT_EQ(config.server.port, 8080);
}

TEST(StaticConfig, ErrorsNameTheFieldAndSayWhatToFix) {
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nservre: {}").find("servre: unknown field"), std::string::npos);
  EXPECT_NE(message_of("server: {}").find("kafka: required"), std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {listen: 'nope'}").find("server.listen"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nserver: {threads: -1}").find("server.threads: must be between"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nkeys: {a: {secret_sha256: abc}}")
                .find("keys.a: 'secret_sha256' must be 64 hex digits"),
            std::string::npos);
  EXPECT_NE(
      message_of("kafka: {bootstrap_servers: x}\nkeys: {a: {topics: [x]}}").find("keys.a: 'secret_sha256' is required"),
      std::string::npos);
  EXPECT_NE(message_of(std::string("kafka: {bootstrap_servers: x}\nkeys: {a: {secret_sha256: ") + kDemoDigest +
                       ", topics: ['bad/topic']}}")
                .find("keys.a: topic glob 'bad/topic'"),
            std::string::npos);
  EXPECT_NE(message_of(std::string("kafka: {bootstrap_servers: x}\nkeys: {a: {secret_sha256: ") + kDemoDigest +
                       "}, b: {secret_sha256: " + kDemoDigest + "}}")
                .find("same secret"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: [").find("not valid YAML"), std::string::npos);
}

TEST(StaticConfig, ParsesProducerTunablesAndTheSpool) {
  const auto config = parse_static_config(R"(
kafka: {bootstrap_servers: "a:1", compression: zstd, linger_ms: 20, batch_bytes: 65536, max_queued_records: 5000,
        max_queued_bytes: 1048576, delivery_timeout_ms: 60000}
spool: {dir: /var/spool/intake, mode: write_ahead, fsync: always, max_bytes: 2097152, segment_bytes: 1048576}
)",
                                          "test.yaml");
  EXPECT_EQ(config.kafka.compression, "zstd");
  EXPECT_EQ(config.kafka.linger_ms, 20u);
  EXPECT_EQ(config.kafka.batch_bytes, 65536u);
  EXPECT_EQ(config.kafka.max_queued_records, 5000u);
  EXPECT_EQ(config.kafka.max_queued_bytes, 1048576u);
  EXPECT_EQ(config.kafka.delivery_timeout_ms, 60000u);
  EXPECT_EQ(config.spool.dir, "/var/spool/intake");
  EXPECT_EQ(config.spool.mode, spool::SpoolOptions::Mode::kWriteAhead);
  EXPECT_EQ(config.spool.fsync, spool::SpoolOptions::Fsync::kAlways);
  EXPECT_EQ(config.spool.max_bytes, 2097152u);
  EXPECT_EQ(config.spool.segment_bytes, 1048576u);
  // Without a spool section there is no spool.
  EXPECT_TRUE(parse_static_config("kafka: {bootstrap_servers: x}", "test.yaml").spool.dir.empty());
}

TEST(StaticConfig, SpoolAndTunableErrorsNameTheField) {
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x, compression: brotli}").find("kafka.compression: expected none"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nspool: {mode: fallback}").find("spool.dir: required"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nspool: {dir: /s, fsync: sometimes}").find("spool.fsync"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nspool: {dir: /s, mode: eager}").find("spool.mode"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nspool: {dir: /s, max_bytes: 2000000, segment_bytes: 4000000}")
                .find("spool.max_bytes: must be at least spool.segment_bytes"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nspool: {dir: /s, segmnt_bytes: 1}")
                .find("spool.segmnt_bytes: unknown field"),
            std::string::npos);
}

TEST(StaticConfig, ConfluentClusterIdIsOptionalAndValidated) {
  EXPECT_TRUE(parse_static_config("kafka: {bootstrap_servers: x}", "test.yaml").confluent.cluster_id.empty());
  EXPECT_EQ(parse_static_config("kafka: {bootstrap_servers: x}\nconfluent: {cluster_id: lkc-abc123}", "test.yaml")
                .confluent.cluster_id,
            "lkc-abc123");
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nconfluent: {cluster_id: \"a/b\"}").find("confluent.cluster_id"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nconfluent: {cluster_id: \"\"}").find("confluent.cluster_id"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nconfluent: {id: x}").find("confluent.id: unknown field"),
            std::string::npos);
}

TEST(StaticConfig, MissingFileSaysSo) {
  EXPECT_THROW(load_static_config("/nonexistent/intake.yaml"), StaticConfigError);
}

WatchPlan plan_of(const std::string& config_yaml) {
  return plan_watches(parse_static_config("kafka: {bootstrap_servers: \"a:1\"}\n" + config_yaml, "test.yaml").registry);
}

// Service discovery needs no registry: with source none the health watcher still starts, and
// `wait` has no registry to wait for, so serving is never held back by it.
TEST(WatchPlan, BrokerServiceWorksWithSourceNone) {
  const auto plan = plan_of("config: {source: none, on_unreachable_at_start: wait, consul: {broker_service: kafka}}\n");
  EXPECT_FALSE(plan.registry);
  EXPECT_TRUE(plan.consul_health);
  EXPECT_FALSE(plan.wait_for_registry);
  const auto defaulted = plan_of("config: {consul: {broker_service: kafka}}\n");  // source defaults to none
  EXPECT_FALSE(defaulted.registry);
  EXPECT_TRUE(defaulted.consul_health);
}

TEST(WatchPlan, BrokerServiceRunsBesideAnyRegistryAndWaitWaitsOnlyForTheRegistry) {
  const auto consul =
      plan_of("config: {source: consul, on_unreachable_at_start: wait, consul: {broker_service: kafka}}\n");
  EXPECT_TRUE(consul.registry);
  EXPECT_TRUE(consul.consul_health);
  EXPECT_TRUE(consul.wait_for_registry);
  const auto etcd = plan_of("config: {source: etcd, consul: {broker_service: kafka}}\n");
  EXPECT_TRUE(etcd.registry);
  EXPECT_TRUE(etcd.consul_health);
  EXPECT_FALSE(etcd.wait_for_registry);
  const auto none = plan_of("");
  EXPECT_FALSE(none.registry || none.consul_health || none.wait_for_registry);
}

TEST(StaticConfig, SigningReplayCacheBudgetHasADefaultAndARange) {
  EXPECT_EQ(parse_static_config("kafka: {bootstrap_servers: 'k:9092'}\n", "test.yaml").signing.replay_cache_max_bytes,
            std::size_t{32} << 20);
  EXPECT_EQ(parse_static_config("kafka: {bootstrap_servers: 'k:9092'}\nsigning: {replay_cache_max_bytes: 2097152}\n",
                                "test.yaml")
                .signing.replay_cache_max_bytes,
            2'097'152u);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: 'k:9092'}\nsigning: {replay_cache_max_bytes: 10}\n")
                .find("signing.replay_cache_max_bytes"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: 'k:9092'}\nsigning: {max: 1}\n").find("signing"), std::string::npos);
}

TEST(StaticConfig, AllowEmptyTreeIsOffUnlessSet) {
  const std::string kafka = "kafka: {bootstrap_servers: \"a:1\"}\n";
  EXPECT_FALSE(parse_static_config(kafka, "test.yaml").registry.allow_empty_tree);
  EXPECT_TRUE(parse_static_config(kafka + "config: {allow_empty_tree: true}\n", "test.yaml").registry.allow_empty_tree);
  EXPECT_NE(
      message_of(kafka + "config: {allow_empty_tree: maybe}\n").find("config.allow_empty_tree: expected true or false"),
      std::string::npos);
}

TEST(StaticConfig, AdminListenGetsAListenerOfItsOwnWithTheServersLimits) {
  const std::string kafka = "kafka: {bootstrap_servers: \"a:1\"}\n";
  EXPECT_FALSE(parse_static_config(kafka, "test.yaml").admin_server);
  const auto config = parse_static_config(
      kafka +
          "server: {listen: \"0.0.0.0:8080\", admin_listen: \"127.0.0.1:9090\", threads: 4, header_timeout_ms: 500}\n",
      "test.yaml");
  ASSERT_TRUE(config.admin_server);
  EXPECT_EQ(config.admin_server->address, "127.0.0.1");
  EXPECT_EQ(config.admin_server->port, 9090);
  EXPECT_EQ(config.admin_server->threads, 1u);
  EXPECT_EQ(config.admin_server->header_timeout_ms, 500u);
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_NE(message_of(kafka + "server: {admin_listen: \"9090\"}\n").find("server.admin_listen: expected ADDRESS:PORT"),
            std::string::npos);
  EXPECT_NE(message_of(kafka + "server: {listen: \"0.0.0.0:8080\", admin_listen: \"127.0.0.1:8080\"}\n")
                .find("server.admin_listen: must use another port than server.listen (8080)"),
            std::string::npos);
}

TEST(StaticConfig, MetricsRequireTokenNeedsTheAdminToken) {
  const std::string kafka = "kafka: {bootstrap_servers: \"a:1\"}\n";
  EXPECT_FALSE(parse_static_config(kafka, "test.yaml").metrics_require_token);
  const auto config = parse_static_config(
      kafka + "admin: {token_sha256: " + kDemoDigest + ", metrics_require_token: true}\n", "test.yaml");
  EXPECT_TRUE(config.metrics_require_token);
  EXPECT_NE(message_of(kafka + "admin: {metrics_require_token: true}\n")
                .find("admin.metrics_require_token: needs admin.token_sha256"),
            std::string::npos);
}

// Found by fuzzing (tests/fuzz/static_config_fuzz.cc): bytes that are not UTF-8 went into the
// JSON text as they were, which no JSON parser (the config builder's included) reads back.
TEST(YamlToJson, RefusesValuesAndKeysThatAreNotUtf8NamingTheLine) {
  auto value = yaml_to_json(YAML::Load("a: 1\nb: \"x\xff\xfe\"\n"));
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().message, "line 2: a value is not valid UTF-8");
  auto key = yaml_to_json(YAML::Load("\xc3\x28: 1\n"));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message, "line 1: a mapping key is not valid UTF-8");
  auto text = yaml_to_json(YAML::Load("caf\xc3\xa9: [\"\xe2\x82\xac\", 5]\n"));
  ASSERT_TRUE(text);
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(text.value()).error(), simdjson::SUCCESS) << text.value();
}

// Found by fuzzing too: JSON numbers too large for a double or a 64-bit integer are valid JSON
// text, but the config builder's parser refuses them, so the key failed with "not valid JSON".
TEST(YamlToJson, RefusesNumbersTheConfigParserCannotHoldNamingTheLine) {
  for (const char* number : {"1e400", "100000000000000000000000000000", "-1e400"}) {
    auto json = yaml_to_json(YAML::Load(std::string("a: 1\nb: ") + number + "\n"));
    ASSERT_FALSE(json) << number;
    EXPECT_EQ(json.error().message,
              std::string("line 2: the number ") + number + " is out of range; quote it if it is meant as text");
  }
  auto quoted = yaml_to_json(YAML::Load("b: \"1e400\"\nc: 18446744073709551615\nd: 1.5e300\n"));
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted.value(), R"({"b":"1e400","c":18446744073709551615,"d":1.5e300})");
}

TEST(StaticConfig, KeysThatAreNotUtf8AreRefusedNamingTheField) {
  EXPECT_NE(message_of(std::string("kafka: {bootstrap_servers: x}\nkeys:\n  team-a:\n    topics: [\"\xff\"]\n"))
                .find("not valid UTF-8"),
            std::string::npos);
}

}  // namespace
}  // namespace intake::config

namespace intake::config {
namespace {

TEST(StaticConfig, MetricsTopicsAreGlobsWithACap) {
  const auto defaults = parse_static_config("kafka: {bootstrap_servers: x}", "test.yaml");
  EXPECT_TRUE(defaults.metrics.topics.empty());
  EXPECT_EQ(defaults.metrics.max_topics, 50u);
  const auto config = parse_static_config(
      "kafka: {bootstrap_servers: x}\nmetrics: {topics: ['orders.*', audit], max_topics: 7}", "test.yaml");
  EXPECT_EQ(config.metrics.topics, (std::vector<std::string>{"orders.*", "audit"}));
  EXPECT_EQ(config.metrics.max_topics, 7u);
}

TEST(StaticConfig, MetricsErrorsNameTheField) {
  const auto message_of = [](const std::string& yaml) {
    try {
      parse_static_config(yaml, "test.yaml");
    } catch (const StaticConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nmetrics: {topics: 'a'}").find("metrics.topics: expected a list"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nmetrics: {topics: ['bad/topic']}").find("metrics.topics[0]"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nmetrics: {max_topics: 0}").find("metrics.max_topics"),
            std::string::npos);
  EXPECT_NE(message_of("kafka: {bootstrap_servers: x}\nmetrics: {topic: []}").find("unknown field"), std::string::npos);
}

}  // namespace
}  // namespace intake::config
