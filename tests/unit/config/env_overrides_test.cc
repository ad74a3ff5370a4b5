#include "config/env_overrides.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/static_config.h"

namespace intake::config {
namespace {

using Path = std::vector<std::string>;

constexpr const char* kBaseYaml = R"(
server: {listen: "127.0.0.1:8080"}
kafka: {bootstrap_servers: "a:1"}
)";

StaticConfig parse_with(const std::vector<EnvOverride>& overrides, const std::string& yaml = kBaseYaml) {
  return parse_static_config(yaml, "test.yaml", overrides);
}

EnvOverride override_of(const std::string& variable, const std::string& value) {
  return {variable, override_path(variable).value(), value};
}

std::string message_of(const std::vector<EnvOverride>& overrides, const std::string& yaml = kBaseYaml) {
  try {
    parse_with(overrides, yaml);
  } catch (const StaticConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(EnvOverridePath, LevelsAreSeparatedByTwoUnderscoresAndLowercased) {
  EXPECT_EQ(override_path("INTAKE_SERVER__LISTEN"), (Path{"server", "listen"}));
  EXPECT_EQ(override_path("INTAKE_KAFKA__BOOTSTRAP_SERVERS"), (Path{"kafka", "bootstrap_servers"}));
  EXPECT_EQ(override_path("INTAKE_CONFIG__CONSUL__ADDRESS"), (Path{"config", "consul", "address"}));
  EXPECT_EQ(override_path("INTAKE_KEYS__TEAM-A"), (Path{"keys", "team-a"}));
}

TEST(EnvOverridePath, KafkaPropertyNamesGetDotsForUnderscores) {
  EXPECT_EQ(override_path("INTAKE_KAFKA__PROPERTIES__SOCKET_KEEPALIVE_ENABLE"),
            (Path{"kafka", "properties", "socket.keepalive.enable"}));
  EXPECT_EQ(override_path("INTAKE_KAFKA__LINGER_MS"), (Path{"kafka", "linger_ms"}));
}

TEST(EnvOverridePath, NamesWithoutThePrefixOrWithoutTwoUnderscoresAreNoOverrides) {
  // What scripts and tests already set: single-level names are never settings.
  for (const char* name : {"INTAKE_ROOT", "INTAKE_KAFKA_BOOTSTRAP", "INTAKE_FUZZ_SECONDS", "INTAKE_BINARY",
                           "INTAKE_CONSUL_ADDR", "PATH", "XINTAKE_SERVER__LISTEN", "intake_server__listen"}) {
    EXPECT_FALSE(override_path(name).has_value()) << name;
  }
}

TEST(EnvOverridePath, EmptyLevelsAreKeptSoThatTheyAreReported) {
  EXPECT_EQ(override_path("INTAKE_SERVER__"), (Path{"server", ""}));
}

TEST(EnvOverrides, CollectsOnlyOverridesInNameOrder) {
  const char* environment[] = {"INTAKE_SERVER__THREADS=2",
                               "INTAKE_ROOT=/work",
                               "HOME=/root",
                               "INTAKE_KAFKA__LINGER_MS=5",
                               "INTAKE_SERVER__LISTEN=0.0.0.0:1=x",
                               nullptr};
  const auto found = env_overrides(environment);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].variable, "INTAKE_KAFKA__LINGER_MS");
  EXPECT_EQ(found[0].value, "5");
  EXPECT_EQ(found[1].variable, "INTAKE_SERVER__LISTEN");
  EXPECT_EQ(found[1].value, "0.0.0.0:1=x");  // the value runs from the first '='
  EXPECT_EQ(found[2].path, (Path{"server", "threads"}));
}

TEST(EnvOverrides, ReplaceTheFilesValueBeforeValidation) {
  const auto config = parse_with({override_of("INTAKE_SERVER__LISTEN", "127.0.0.1:9000"),
                                  override_of("INTAKE_KAFKA__BOOTSTRAP_SERVERS", "b:2,c:3")});
  EXPECT_EQ(config.server.port, 9000);
  EXPECT_EQ(config.kafka.bootstrap_servers, "b:2,c:3");
}

TEST(EnvOverrides, ValuesAreYamlNumbersBooleansAndLists) {
  const auto config = parse_with({override_of("INTAKE_SERVER__THREADS", "3"),
                                  override_of("INTAKE_KAFKA__COPY_HEADERS", "[X-Request-Id, X-Tenant]"),
                                  override_of("INTAKE_CONFIG__ALLOW_EMPTY_TREE", "true")});
  EXPECT_EQ(config.server.threads, 3u);
  EXPECT_EQ(config.kafka.copy_headers, (std::vector<std::string>{"X-Request-Id", "X-Tenant"}));
  EXPECT_TRUE(config.registry.allow_empty_tree);
}

TEST(EnvOverrides, CreateSectionsTheFileDoesNotHave) {
  const auto config = parse_with({override_of("INTAKE_CONFIG__SOURCE", "consul"),
                                  override_of("INTAKE_CONFIG__CONSUL__ADDRESS", "http://10.0.0.5:8500"),
                                  override_of("INTAKE_CONFIG__CONSUL__PREFIX", "prod/intake/")});
  EXPECT_EQ(config.registry.source, sources::RegistryOptions::Kind::kConsul);
  EXPECT_EQ(config.registry.consul.address, "http://10.0.0.5:8500");
  EXPECT_EQ(config.registry.consul.prefix, "prod/intake/");
}

TEST(EnvOverrides, FreeFormMapsTakeNewNames) {
  const std::string digest(64, 'a');
  const auto config = parse_with({override_of("INTAKE_KAFKA__PROPERTIES__SOCKET_KEEPALIVE_ENABLE", "true"),
                                  override_of("INTAKE_KEYS__OPS", "{secret_sha256: " + digest + ", topics: [ops.*]}")});
  ASSERT_EQ(config.kafka.properties.size(), 1u);
  EXPECT_EQ(config.kafka.properties[0].first, "socket.keepalive.enable");
  EXPECT_EQ(config.kafka.properties[0].second, "true");
  EXPECT_EQ(config.key_count, 1u);
}

TEST(EnvOverrides, ADeeperOverrideAddsToTheSectionAnotherOneSets) {
  // Applied in name order, whatever the environment's: the section first, then the field below it.
  const char* environment[] = {"INTAKE_KAFKA__PROPERTIES__LINGER_MS=5", "INTAKE_KAFKA__PROPERTIES={acks: all}",
                               nullptr};
  const auto config = parse_with(env_overrides(environment));
  ASSERT_EQ(config.kafka.properties.size(), 2u);
  EXPECT_EQ(config.kafka.properties[0], (std::pair<std::string, std::string>{"acks", "all"}));
  EXPECT_EQ(config.kafka.properties[1], (std::pair<std::string, std::string>{"linger.ms", "5"}));
}

TEST(EnvOverrides, AnUnknownSettingIsAnErrorNamingTheVariable) {
  EXPECT_EQ(message_of({override_of("INTAKE_SERVER__LISTN", "127.0.0.1:1")}),
            "test.yaml: server.listn: unknown field (known fields: listen, admin_listen, threads, max_body_bytes, "
            "max_header_bytes, idle_timeout_ms, sync_timeout_ms, max_connections, max_connections_per_ip, "
            "max_inflight_body_bytes, header_timeout_ms, body_timeout_ms, body_min_bytes_per_s, write_timeout_ms, "
            "retry_after_s, drain_delay_ms, tls) (set by environment variable INTAKE_SERVER__LISTN)");
  const auto top = message_of({override_of("INTAKE_SERVR__LISTEN", "127.0.0.1:1")});
  EXPECT_EQ(top.rfind("test.yaml: servr: unknown field (known fields: server, kafka,", 0), 0u) << top;
  EXPECT_NE(top.find("(set by environment variable INTAKE_SERVR__LISTEN)"), std::string::npos) << top;
}

TEST(EnvOverrides, AnInvalidValueGetsTheFilesMessageAndNamesTheVariable) {
  EXPECT_EQ(message_of({override_of("INTAKE_SERVER__LISTEN", "127.0.0.1:99999")}),
            "test.yaml: server.listen (port): must be between 1 and 65535, got 99999 (set by environment variable "
            "INTAKE_SERVER__LISTEN)");
  EXPECT_EQ(message_of({override_of("INTAKE_CONFIG__ALLOW_EMPTY_TREE", "yes please")}),
            "test.yaml: config.allow_empty_tree: expected true or false, got 'yes please' (set by environment "
            "variable INTAKE_CONFIG__ALLOW_EMPTY_TREE)");
  EXPECT_EQ(message_of({override_of("INTAKE_KAFKA__COPY_HEADERS", "[ok, 'not a header']")}),
            "test.yaml: kafka.copy_headers[1]: 'not a header' is not an HTTP header name (set by environment "
            "variable INTAKE_KAFKA__COPY_HEADERS)");
  const auto key = message_of({override_of("INTAKE_KEYS__OPS", "{secret_sha256: nothex}")});
  EXPECT_EQ(key,
            "test.yaml: keys.ops: 'secret_sha256' must be 64 hex digits (set by environment variable "
            "INTAKE_KEYS__OPS)");
}

TEST(EnvOverrides, MessagesAboutTheFilesOwnValuesNameNoVariable) {
  const auto message = message_of({override_of("INTAKE_SERVER__THREADS", "2")},
                                  "server: {listen: nowhere}\nkafka: {bootstrap_servers: a:1}\n");
  EXPECT_EQ(message, "test.yaml: server.listen: expected ADDRESS:PORT such as 127.0.0.1:8080, got 'nowhere'");
}

TEST(EnvOverrides, ValuesThatAreNoYamlAndMalformedNamesAreReported) {
  const auto bad_yaml = message_of({override_of("INTAKE_SERVER__LISTEN", "[unclosed")});
  EXPECT_EQ(bad_yaml.rfind("test.yaml: server.listen: not a YAML value", 0), 0u) << bad_yaml;
  EXPECT_NE(bad_yaml.find("INTAKE_SERVER__LISTEN"), std::string::npos);
  const auto empty_level = message_of({override_of("INTAKE_SERVER__", "1")});
  EXPECT_NE(empty_level.find("an empty level in the variable's name"), std::string::npos) << empty_level;
  const auto below_value = message_of({override_of("INTAKE_SERVER__LISTEN__PORT", "1")});
  EXPECT_NE(below_value.find("server.listen is a single value in the file, not a section"), std::string::npos)
      << below_value;
}

TEST(EnvOverrides, MakeAFileWithoutKafkaComplete) {
  const auto config = parse_with({override_of("INTAKE_KAFKA__BOOTSTRAP_SERVERS", "k:9092")}, "server: {}\n");
  EXPECT_EQ(config.kafka.bootstrap_servers, "k:9092");
}

}  // namespace
}  // namespace intake::config
