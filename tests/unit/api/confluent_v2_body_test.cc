#include "api/confluent_v2_body.h"

#include <gtest/gtest.h>

#include <string>

namespace intake::api {
namespace {

ConfluentV2Limits limits(std::int32_t path_partition = -1) {
  return {.batch = {.record = {.topic = "t", .max_bytes = 0}, .max_records = kMaxBatchRecords},
          .path_partition = path_partition};
}

TEST(ConfluentV2Body, JsonKeysAndValuesAreProducedAsTheirJsonText) {
  auto decoded =
      decode_confluent_v2(R"({"records":[{"key":"somekey","value":{"foo": "bar"}},{"value":53.5,"partition":1}]})",
                          ConfluentFormat::kJson, limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[0].key, R"("somekey")");
  EXPECT_EQ(decoded->records[0].value, R"({"foo":"bar"})");
  EXPECT_EQ(decoded->records[0].partition, -1);
  EXPECT_EQ(decoded->records[1].value, "53.5");
  EXPECT_EQ(decoded->records[1].partition, 1);
  EXPECT_TRUE(decoded->records[1].key.empty());
}

TEST(ConfluentV2Body, BinaryKeysAndValuesAreTheBytesTheirBase64Encodes) {
  auto decoded =
      decode_confluent_v2(R"({"records":[{"key":"a2V5","value":"Y29uZmx1ZW50"},{"key":null,"value":"AAH/"}]})",
                          ConfluentFormat::kBinary, limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records[0].key, "key");
  EXPECT_EQ(decoded->records[0].value, "confluent");
  EXPECT_EQ(decoded->records[1].value, std::string("\x00\x01\xff", 3));
  const auto bad = decode_confluent_v2(R"({"records":[{"value":"%%%"}]})", ConfluentFormat::kBinary, limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "records[0]: \"value\" must be a base64 string (the binary format)");
}

TEST(ConfluentV2Body, SchemaMembersAreIgnoredAndOthersRefused) {
  EXPECT_TRUE(
      decode_confluent_v2(R"({"value_schema_id":null,"records":[{"value":1}]})", ConfluentFormat::kJson, limits())
          .ok());
  const auto bad = decode_confluent_v2(R"({"record":[{"value":1}]})", ConfluentFormat::kJson, limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(bad.error().message.find("unknown field \"record\""), std::string::npos);
}

TEST(ConfluentV2Body, TombstonesAndMissingValuesAreRefusedNamingTheRecord) {
  auto bad =
      decode_confluent_v2(R"({"records":[{"value":1},{"key":"k","value":null}]})", ConfluentFormat::kJson, limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "records[1]: \"value\" is null; Intake does not produce null values (tombstones)");
  bad = decode_confluent_v2(R"({"records":[{"key":"k"}]})", ConfluentFormat::kJson, limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "records[0]: \"value\" is missing");
  bad = decode_confluent_v2(R"({"records":[]})", ConfluentFormat::kJson, limits());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kEmptyBody);
}

TEST(ConfluentV2Body, ThePathPartitionAppliesAndARecordMayNotNameAnother) {
  auto decoded =
      decode_confluent_v2(R"({"records":[{"value":1},{"value":2,"partition":3}]})", ConfluentFormat::kJson, limits(3));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records[0].partition, 3);
  const auto bad = decode_confluent_v2(R"({"records":[{"value":1,"partition":2}]})", ConfluentFormat::kJson, limits(3));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "records[0]: \"partition\" differs from the partition in the path; leave it out");
}

TEST(ConfluentV2Body, LimitsNameTheRecord) {
  ConfluentV2Limits small = limits();
  small.batch.record.max_bytes = 4;
  const auto bad =
      decode_confluent_v2(R"({"records":[{"value":"ab"},{"value":"abcdef"}]})", ConfluentFormat::kJson, small);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(bad.error().message.rfind("records[1]: ", 0), 0u) << bad.error().message;
}

}  // namespace
}  // namespace intake::api
