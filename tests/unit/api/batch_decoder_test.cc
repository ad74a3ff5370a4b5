#include "api/batch_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace intake::api {
namespace {

BatchLimits no_limits() { return {.record = {.topic = "events", .max_bytes = 0}, .max_records = kMaxBatchRecords}; }

// The error a body decodes to; fails the test if it decodes.
Error error_of(std::string_view body, const BatchLimits& limits = no_limits()) {
  auto decoded = decode_ndjson(body, limits);
  EXPECT_FALSE(decoded.ok()) << "decoded " << body;
  return decoded.ok() ? Error{} : decoded.error();
}

TEST(NdjsonDecoder, AnEmptyBodyHoldsNoRecord) {
  const auto error = error_of("");
  EXPECT_EQ(error.code, ErrorCode::kEmptyBody);
  EXPECT_EQ(error.message, R"(the batch holds no record; send one {"value":...} per line)");
}

TEST(NdjsonDecoder, OnlyBlankLinesHoldNoRecord) { EXPECT_EQ(error_of("\n \t\n\r\n").code, ErrorCode::kEmptyBody); }

TEST(NdjsonDecoder, DecodesOneLineWithoutNewline) {
  auto decoded = decode_ndjson(R"({"value":"hello","key":"user-7","partition":3})", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 1u);
  EXPECT_EQ(decoded->records[0].value, "hello");
  EXPECT_EQ(decoded->records[0].key, "user-7");
  EXPECT_EQ(decoded->records[0].partition, 3);
  EXPECT_EQ(decoded->value_bytes, 5u);
}

TEST(NdjsonDecoder, KeyAndPartitionAreOptional) {
  auto decoded = decode_ndjson(R"({"value":"v"})", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records[0].key, "");
  EXPECT_EQ(decoded->records[0].partition, -1);
}

TEST(NdjsonDecoder, DecodesManyLinesInOrderAndSumsTheirValueBytes) {
  auto decoded = decode_ndjson("{\"value\":\"a\"}\n{\"value\":\"bb\"}\n{\"value\":\"ccc\"}", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 3u);
  EXPECT_EQ(decoded->records[0].value, "a");
  EXPECT_EQ(decoded->records[1].value, "bb");
  EXPECT_EQ(decoded->records[2].value, "ccc");
  EXPECT_EQ(decoded->value_bytes, 6u);
}

TEST(NdjsonDecoder, ATrailingNewlineAddsNoLine) {
  auto decoded = decode_ndjson("{\"value\":\"a\"}\n{\"value\":\"b\"}\n", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records.size(), 2u);
}

TEST(NdjsonDecoder, AcceptsCrlfLineEnds) {
  auto decoded = decode_ndjson("{\"value\":\"a\"}\r\n{\"value\":\"b\"}\r\n", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[0].value, "a");
  EXPECT_EQ(decoded->records[1].value, "b");
}

TEST(NdjsonDecoder, SkipsBlankLinesButCountsThemInLineNumbers) {
  auto decoded = decode_ndjson("\n{\"value\":\"a\"}\n  \t\n\r\n{\"value\":\"b\"}\n", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(error_of("\n \n{\"value\":\"a\"}\n{oops}\n").message,
            "line 4: not valid JSON; each line must be one JSON object");
}

TEST(NdjsonDecoder, BadJsonNamesItsLine) {
  const auto error = error_of("{\"value\":\"a\"}\n{\"value\":\"b\"}\n{\"value\":\n");
  EXPECT_EQ(error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(error.message, "line 3: not valid JSON; each line must be one JSON object");
}

TEST(NdjsonDecoder, ALineMustBeAnObject) {
  const auto error = error_of("{\"value\":\"a\"}\n[\"a\"]");
  EXPECT_EQ(error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(error.message, R"(line 2: expected an object such as {"value":"..."})");
  EXPECT_EQ(error_of("\"just a string\"").message, R"(line 1: expected an object such as {"value":"..."})");
}

TEST(NdjsonDecoder, AMissingValueIsRefused) {
  const auto error = error_of(R"({"key":"k"})");
  EXPECT_EQ(error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(error.message, "line 1: \"value\" is missing");
}

TEST(NdjsonDecoder, AnEmptyValueIsAnEmptyBody) {
  const auto error = error_of("{\"value\":\"a\"}\n{\"value\":\"\"}");
  EXPECT_EQ(error.code, ErrorCode::kEmptyBody);
  EXPECT_EQ(error.message, "line 2: \"value\" is empty");
}

TEST(NdjsonDecoder, AValueThatIsNoStringIsKeptAsCompactJson) {
  auto decoded =
      decode_ndjson("{\"value\": {\"a\": [1, 2], \"b\": null}}\n{\"value\": 42}\n{\"value\": true}", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 3u);
  EXPECT_EQ(decoded->records[0].value, R"({"a":[1,2],"b":null})");
  EXPECT_EQ(decoded->records[1].value, "42");
  EXPECT_EQ(decoded->records[2].value, "true");
}

TEST(NdjsonDecoder, AStringValueIsUnescaped) {
  auto decoded = decode_ndjson(R"({"value":"a\"b\n\u00e9"})", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records[0].value, "a\"b\n\xc3\xa9");
}

TEST(NdjsonDecoder, AKeyMustBeAString) {
  const auto error = error_of(R"({"value":"v","key":7})");
  EXPECT_EQ(error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(error.message, "line 1: \"key\" must be a string");
  EXPECT_EQ(error_of(R"({"value":"v","key":null})").message, "line 1: \"key\" must be a string");
}

TEST(NdjsonDecoder, APartitionMustBeANumberFromZeroToInt32Max) {
  const std::string expected = "line 1: \"partition\" must be a partition number (0 or more)";
  EXPECT_EQ(error_of(R"({"value":"v","partition":-1})").message, expected);
  EXPECT_EQ(error_of(R"({"value":"v","partition":2147483648})").message, expected);
  EXPECT_EQ(error_of(R"({"value":"v","partition":1.5})").message, expected);
  EXPECT_EQ(error_of(R"({"value":"v","partition":"3"})").message, expected);
  EXPECT_EQ(error_of(R"({"value":"v","partition":-1})").code, ErrorCode::kBadRequest);
  auto decoded = decode_ndjson(R"({"value":"v","partition":2147483647})", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records[0].partition, 2147483647);
}

TEST(NdjsonDecoder, UnknownFieldsAreRefusedNamingTheKnownOnes) {
  const auto error = error_of(R"({"value":"v","timestamp":1})");
  EXPECT_EQ(error.code, ErrorCode::kBadRequest);
  EXPECT_EQ(error.message,
            "line 1: unknown field \"timestamp\" (known: value, key, partition, headers, headers_encoding)");
}

TEST(NdjsonDecoder, HeadersAreNameToStringInBodyOrder) {
  auto decoded = decode_ndjson(R"({"value":"v","headers":{"trace":"abc","tenant":"t-1"}})", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const auto& headers = decoded->records[0].headers;
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"trace", "abc"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"tenant", "t-1"}));
}

TEST(NdjsonDecoder, Base64HeadersAreDecodedWhicheverOrderTheFieldsComeIn) {
  for (const std::string_view body : {R"({"value":"v","headers":{"bin":"AAH/"},"headers_encoding":"base64"})",
                                      R"({"headers_encoding":"base64","headers":{"bin":"AAH/"},"value":"v"})"}) {
    auto decoded = decode_ndjson(body, no_limits());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_EQ(decoded->records[0].headers.size(), 1u);
    EXPECT_EQ(decoded->records[0].headers[0].second, std::string("\x00\x01\xff", 3));
  }
  EXPECT_EQ(error_of(R"({"value":"v","headers":{"bin":"%%"},"headers_encoding":"base64"})").message,
            "line 1: header \"bin\" is not base64 (headers_encoding is \"base64\")");
}

TEST(NdjsonDecoder, BadHeadersAreRefusedWithWhatToFix) {
  EXPECT_EQ(error_of(R"({"value":"v","headers":["a"]})").message,
            R"(line 1: "headers" must be an object of name: string, e.g. {"trace":"abc"})");
  EXPECT_EQ(error_of(R"({"value":"v","headers":{"n":1}})").message, "line 1: header \"n\" must have a string value");
  // The gateway's own headers tell consumers who sent a record: a client cannot forge them.
  EXPECT_EQ(error_of(R"({"value":"v","headers":{"Intake-Key-Id":"admin"}})").message,
            "line 1: header \"Intake-Key-Id\": names starting with intake- are set by the gateway");
}

TEST(JsonArrayDecoder, DecodesTheSameObjectsAsNdjson) {
  auto decoded =
      decode_batch(R"(  [{"value":"a","key":"k"}, {"value":{"n":1},"partition":2,"headers":{"h":"x"}}])", no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[0].value, "a");
  EXPECT_EQ(decoded->records[0].key, "k");
  EXPECT_EQ(decoded->records[1].value, R"({"n":1})");
  EXPECT_EQ(decoded->records[1].partition, 2);
  EXPECT_EQ(decoded->records[1].headers.size(), 1u);
  EXPECT_EQ(decoded->value_bytes, 1u + 7u);
}

TEST(JsonArrayDecoder, ErrorsNameTheRecordByItsPlace) {
  auto decoded = decode_batch(R"([{"value":"a"},{"key":"k"}])", no_limits());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "record 2: \"value\" is missing");
  decoded = decode_batch(R"([{"value":"a"}, 7])", no_limits());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, R"(record 2: expected an object such as {"value":"..."})");
  decoded = decode_batch(R"([{"value":"a"})", no_limits());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kBadRequest);
  decoded = decode_batch("[]", no_limits());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kEmptyBody);
}

TEST(JsonArrayDecoder, TheRecordCountLimitHoldsForArraysToo) {
  const BatchLimits limits{.record = {.topic = "events", .max_bytes = 0}, .max_records = 2};
  auto decoded = decode_batch(R"([{"value":"a"},{"value":"b"},{"value":"c"}])", limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(decoded.error().message, "a batch holds at most 2 records; split it");
}

TEST(NdjsonDecoder, AValueOverTheTopicLimitNamesItsLine) {
  const BatchLimits limits{.record = {.topic = "events", .max_bytes = 3}, .max_records = kMaxBatchRecords};
  ASSERT_TRUE(decode_ndjson("{\"value\":\"abc\"}", limits).ok());
  const auto error = error_of("{\"value\":\"abc\"}\n{\"value\":\"abcd\"}", limits);
  EXPECT_EQ(error.code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(error.message, "line 2: the record has 4 bytes; topic 'events' accepts at most 3");
}

TEST(NdjsonDecoder, TheFirstProblemInBodyOrderWins) {
  const BatchLimits limits{.record = {.topic = "events", .max_bytes = 3}, .max_records = kMaxBatchRecords};
  EXPECT_EQ(error_of("{\"value\":\"abcd\"}\n{oops}", limits).code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(error_of("{oops}\n{\"value\":\"abcd\"}", limits).code, ErrorCode::kBadRequest);
}

TEST(NdjsonDecoder, RefusesMoreRecordsThanTheLimitBeforeReadingTheNextLine) {
  const BatchLimits limits{.record = {.topic = "events", .max_bytes = 0}, .max_records = 2};
  ASSERT_TRUE(decode_ndjson("{\"value\":\"a\"}\n{\"value\":\"b\"}\n\n", limits).ok());
  const auto error = error_of("{\"value\":\"a\"}\n{\"value\":\"b\"}\n{oops}", limits);
  EXPECT_EQ(error.code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(error.message, "a batch holds at most 2 records; split it");
}

TEST(NdjsonDecoder, TheDefaultCountLimitIsTenThousand) {
  std::string body;
  for (std::size_t i = 0; i < kMaxBatchRecords; ++i) body += "{\"value\":\"x\"}\n";
  auto decoded = decode_ndjson(body, no_limits());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->records.size(), kMaxBatchRecords);
  body += "{\"value\":\"x\"}\n";
  EXPECT_EQ(error_of(body).message, "a batch holds at most 10000 records; split it");
}

}  // namespace
}  // namespace intake::api
