// Confluent v3 produce bodies: every data type, headers, timestamps, batches and the errors.
#include "api/confluent_v3_body.h"

#include <gtest/gtest.h>

#include <string>

namespace intake::api {
namespace {

ConfluentV3Record decode_ok(std::string_view body) {
  auto decoded = decode_confluent_v3_record(body, {});
  EXPECT_TRUE(decoded) << (decoded ? "" : decoded.error().message);
  return decoded ? std::move(decoded).value() : ConfluentV3Record{};
}

Error decode_error(std::string_view body, const RecordLimit& limit = {}) {
  auto decoded = decode_confluent_v3_record(body, limit);
  EXPECT_FALSE(decoded) << body;
  return decoded ? Error{} : decoded.error();
}

TEST(ConfluentV3Body, DecodesBinaryKeyAndJsonValue) {
  const auto record = decode_ok(
      R"({"partition_id":1,"key":{"type":"BINARY","data":"Zm9vYmFy"},"value":{"type":"JSON","data":{"a": [1, 2]}}})");
  EXPECT_EQ(record.record.key, "foobar");
  ASSERT_TRUE(record.key_type);
  EXPECT_EQ(*record.key_type, ConfluentDataType::kBinary);
  EXPECT_EQ(record.record.value, R"({"a":[1,2]})");
  EXPECT_EQ(record.value_type, ConfluentDataType::kJson);
  EXPECT_EQ(record.record.partition, 1);
  EXPECT_EQ(record.timestamp_ms, 0);
}

TEST(ConfluentV3Body, StringDataIsItsBytesAndJsonStringKeepsItsQuotes) {
  auto record = decode_ok(R"({"key":{"type":"STRING","data":"k1"},"value":{"type":"STRING","data":"héllo"}})");
  EXPECT_EQ(record.record.key, "k1");
  EXPECT_EQ(record.record.value, "héllo");
  EXPECT_EQ(record.value_type, ConfluentDataType::kString);
  record = decode_ok(R"({"value":{"type":"JSON","data":"a"}})");
  EXPECT_EQ(record.record.value, "\"a\"");
  record = decode_ok(R"({"value":{"type":"JSON","data":42}})");
  EXPECT_EQ(record.record.value, "42");
}

TEST(ConfluentV3Body, AbsentOrNullKeyProducesNoKey) {
  EXPECT_FALSE(decode_ok(R"({"value":{"type":"STRING","data":"v"}})").key_type);
  EXPECT_FALSE(decode_ok(R"({"key":null,"value":{"type":"STRING","data":"v"}})").key_type);
  const auto record = decode_ok(R"({"key":{"type":"BINARY","data":null},"value":{"type":"STRING","data":"v"}})");
  EXPECT_FALSE(record.key_type);
  EXPECT_TRUE(record.record.key.empty());
  EXPECT_EQ(decode_ok(R"({"partition_id":null,"value":{"type":"STRING","data":"v"}})").record.partition, -1);
}

TEST(ConfluentV3Body, RefusesNullOrMissingValue) {
  EXPECT_NE(decode_error(R"({"key":{"type":"STRING","data":"k"}})").message.find("tombstones"), std::string::npos);
  EXPECT_EQ(decode_error(R"({"value":null})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"value":{"type":"JSON","data":null}})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"value":{"type":"STRING","data":""}})").code, ErrorCode::kEmptyBody);
}

TEST(ConfluentV3Body, DecodesHeaders) {
  const auto record =
      decode_ok(R"({"headers":[{"name":"trace","value":"YWJj"},{"name":"empty","value":null},{"name":"none"}],)"
                R"("value":{"type":"STRING","data":"v"}})");
  ASSERT_EQ(record.record.headers.size(), 3u);
  EXPECT_EQ(record.record.headers[0], (std::pair<std::string, std::string>{"trace", "abc"}));
  EXPECT_EQ(record.record.headers[1].second, "");
  EXPECT_EQ(record.record.headers[2].first, "none");
}

TEST(ConfluentV3Body, RefusesBadHeaders) {
  const Error reserved =
      decode_error(R"({"headers":[{"name":"Intake-Key-Id","value":"YQ=="}],"value":{"type":"STRING","data":"v"}})");
  EXPECT_EQ(reserved.code, ErrorCode::kBadRequest);
  EXPECT_NE(reserved.message.find("intake-"), std::string::npos);
  EXPECT_EQ(
      decode_error(R"({"headers":[{"name":"h","value":"not base64!"}],"value":{"type":"STRING","data":"v"}})").code,
      ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"headers":[{"value":"YQ=="}],"value":{"type":"STRING","data":"v"}})").code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"headers":{"h":"YQ=="},"value":{"type":"STRING","data":"v"}})").code,
            ErrorCode::kBadRequest);
  std::string many = R"({"headers":[)";
  for (std::size_t i = 0; i <= kMaxRecordHeaders; ++i) many += (i ? "," : "") + std::string(R"({"name":"h"})");
  many += R"(],"value":{"type":"STRING","data":"v"}})";
  EXPECT_NE(decode_error(many).message.find("at most"), std::string::npos);
}

TEST(ConfluentV3Body, RefusesBadTypesAndData) {
  EXPECT_NE(decode_error(R"({"value":{"data":"v"}})").message.find("\"type\" is missing"), std::string::npos);
  EXPECT_NE(decode_error(R"({"value":{"type":"XML","data":"v"}})").message.find("unknown type"), std::string::npos);
  EXPECT_EQ(decode_error(R"({"value":{"type":"BINARY","data":"***"}})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"value":{"type":"BINARY","data":12}})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"value":{"type":"STRING","data":{"a":1}}})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"value":"raw"})").code, ErrorCode::kBadRequest);
  EXPECT_NE(decode_error(R"({"value":{"type":"STRING","data":"v"},"topic":"t"})").message.find("unknown field"),
            std::string::npos);
  EXPECT_EQ(decode_error(R"({"partition_id":-1,"value":{"type":"STRING","data":"v"}})").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error("not json").code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error("[]").code, ErrorCode::kBadRequest);
}

TEST(ConfluentV3Body, SchemaFormsAreNotSupported) {
  for (const char* body : {R"({"value":{"type":"AVRO","data":{}}})", R"({"value":{"type":"PROTOBUF","data":{}}})",
                           R"({"value":{"type":"JSONSCHEMA","data":{}}})", R"({"value":{"schema_id":3,"data":{}}})",
                           R"({"key":{"subject":"s","data":1},"value":{"type":"JSON","data":1}})",
                           R"({"value":{"schema_version":1,"data":{}}})",
                           R"({"value":{"subject_name_strategy":"TOPIC_NAME","data":{}}})"}) {
    EXPECT_EQ(decode_error(body).code, ErrorCode::kSchemaNotSupported) << body;
  }
}

TEST(ConfluentV3Body, ChecksTheRecordLimit) {
  const Error error = decode_error(R"({"value":{"type":"STRING","data":"12345"}})", {.topic = "t", .max_bytes = 4});
  EXPECT_EQ(error.code, ErrorCode::kPayloadTooLarge);
}

TEST(ConfluentV3Body, TakesTimestamps) {
  EXPECT_EQ(decode_ok(R"({"timestamp":"2021-02-05T19:14:42Z","value":{"type":"STRING","data":"v"}})").timestamp_ms,
            1612552482000);
  EXPECT_EQ(decode_ok(R"({"timestamp":null,"value":{"type":"STRING","data":"v"}})").timestamp_ms, 0);
  EXPECT_EQ(decode_error(R"({"timestamp":"yesterday","value":{"type":"STRING","data":"v"}})").code,
            ErrorCode::kBadRequest);
  EXPECT_EQ(decode_error(R"({"timestamp":1612552482000,"value":{"type":"STRING","data":"v"}})").code,
            ErrorCode::kBadRequest);
}

TEST(Rfc3339, ParsesUtcFractionsAndOffsets) {
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T19:14:42Z"), 1612552482000);
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T19:14:42.123Z"), 1612552482123);
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T19:14:42.5Z"), 1612552482500);
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T19:14:42.123456789Z"), 1612552482123);
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T21:14:42+02:00"), 1612552482000);
  EXPECT_EQ(parse_rfc3339_ms("2021-02-05T14:44:42-04:30"), 1612552482000);
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(Rfc3339, RefusesMalformedTimes) {
  for (const char* text :
       {"", "2021-02-05", "2021-02-05T19:14:42", "2021-02-05 19:14:42Z", "2021-02-30T00:00:00Z", "2021-13-01T00:00:00Z",
        "2021-02-05T24:00:00Z", "2021-02-05T19:14:42.Z", "2021-02-05T19:14:42+0200", "2021-02-05T19:14:42Zjunk",
        "1969-12-31T23:59:59Z", "2021-02-05T19:61:42Z"}) {
    EXPECT_FALSE(parse_rfc3339_ms(text)) << text;
  }
}

TEST(Rfc3339, FormatsMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(1612552482000), "2021-02-05T19:14:42.000Z");
  EXPECT_EQ(format_rfc3339_ms(1612552482123), "2021-02-05T19:14:42.123Z");
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(ConfluentV3Batch, DecodesEntriesWithIds) {
  auto batch = decode_confluent_v3_batch(
      R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}},)"
      R"({"id":"2","partition_id":3,"key":{"type":"JSON","data":[1]},"value":{"type":"BINARY","data":"YmM="}}]})",
      {});
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->entries.size(), 2u);
  EXPECT_EQ(batch->entries[0].id, "1");
  EXPECT_EQ(batch->entries[1].id, "2");
  EXPECT_EQ(batch->entries[1].record.key, "[1]");
  EXPECT_EQ(batch->entries[1].record.value, "bc");
  EXPECT_EQ(batch->entries[1].record.partition, 3);
  EXPECT_EQ(batch->value_bytes, 3u);
}

TEST(ConfluentV3Batch, OneBadEntryRefusesTheBatchNamingIt) {
  auto batch = decode_confluent_v3_batch(
      R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}},{"id":"x7","value":{"type":"BINARY","data":"!"}}]})",
      {});
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(batch.error().message.rfind(R"(entries[1] (id "x7"): )", 0), 0u) << batch.error().message;
}

TEST(ConfluentV3Batch, RefusesMissingDuplicateOrBadIds) {
  EXPECT_NE(decode_confluent_v3_batch(R"({"entries":[{"value":{"type":"STRING","data":"a"}}]})", {})
                .error()
                .message.find("\"id\" is missing"),
            std::string::npos);
  EXPECT_NE(
      decode_confluent_v3_batch(
          R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}},{"id":"1","value":{"type":"STRING","data":"b"}}]})",
          {})
          .error()
          .message.find("unique"),
      std::string::npos);
  EXPECT_FALSE(decode_confluent_v3_batch(R"({"entries":[{"id":1,"value":{"type":"STRING","data":"a"}}]})", {}));
  EXPECT_FALSE(decode_confluent_v3_batch(R"({"entries":[{"id":"","value":{"type":"STRING","data":"a"}}]})", {}));
}

TEST(ConfluentV3Batch, RefusesBadShapesAndTooManyEntries) {
  EXPECT_EQ(decode_confluent_v3_batch(R"({"entries":[]})", {}).error().code, ErrorCode::kEmptyBody);
  EXPECT_EQ(decode_confluent_v3_batch(R"({})", {}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_confluent_v3_batch(R"({"records":[]})", {}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(decode_confluent_v3_batch(R"({"entries":{}})", {}).error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(
      decode_confluent_v3_batch(
          R"({"entries":[{"id":"1","value":{"type":"STRING","data":"a"}},{"id":"2","value":{"type":"STRING","data":"b"}}]})",
          {.record = {}, .max_records = 1})
          .error()
          .code,
      ErrorCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace intake::api
