// The YAML's logging: section: the formats, the start-up level and the access log's sample
// rate are read, and anything else is refused with a message that names the setting.
#include <gtest/gtest.h>

#include <string>

#include "config/static_config.h"

namespace intake::config {
namespace {

const std::string kBase = "kafka: {bootstrap_servers: \"127.0.0.1:9092\"}\n";

std::string message_of(const std::string& logging_yaml) {
  try {
    parse_static_config(kBase + logging_yaml, "test.yaml");
  } catch (const StaticConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(StaticConfigLogging, DefaultsAreTextInfoAndNoAccessLog) {
  const auto config = parse_static_config(kBase, "test.yaml");
  EXPECT_EQ(config.logging.format, logging::LogFormat::kText);
  EXPECT_EQ(config.logging.level, "info");
  EXPECT_EQ(config.logging.access_log_sample_rate, 0.0);
}

TEST(StaticConfigLogging, ReadsFormatLevelAndSampleRate) {
  const auto json = parse_static_config(
      kBase + "logging: {format: json, level: debug, access_log: {sample_rate: 0.25}}\n", "test.yaml");
  EXPECT_EQ(json.logging.format, logging::LogFormat::kJson);
  EXPECT_EQ(json.logging.level, "debug");
  EXPECT_DOUBLE_EQ(json.logging.access_log_sample_rate, 0.25);
  const auto logfmt =
      parse_static_config(kBase + "logging: {format: logfmt, access_log: {sample_rate: 1}}\n", "test.yaml");
  EXPECT_EQ(logfmt.logging.format, logging::LogFormat::kLogfmt);
  EXPECT_DOUBLE_EQ(logfmt.logging.access_log_sample_rate, 1.0);
}

TEST(StaticConfigLogging, RefusesWhatItCannotUseNamingTheSetting) {
  EXPECT_NE(message_of("logging: {format: xml}\n").find("logging.format: expected text, json or logfmt, got 'xml'"),
            std::string::npos)
      << message_of("logging: {format: xml}\n");
  EXPECT_NE(message_of("logging: {level: verbose}\n").find("logging.level"), std::string::npos);
  for (const char* rate : {"1.5", "-0.1", "nan", "half", "\"\""}) {
    const std::string message = message_of(std::string("logging: {access_log: {sample_rate: ") + rate + "}}\n");
    EXPECT_NE(message.find("logging.access_log.sample_rate"), std::string::npos) << rate << ": " << message;
  }
  EXPECT_NE(message_of("logging: {colour: true}\n").find("colour"), std::string::npos);
  EXPECT_NE(message_of("logging: {access_log: {rate: 1}}\n").find("rate"), std::string::npos);
}

}  // namespace
}  // namespace intake::config
