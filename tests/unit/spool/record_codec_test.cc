#include "spool/record_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace intake::spool {
namespace {

using namespace std::string_literals;

TEST(RecordCodec, RoundTripsEveryField) {
  const std::string trace = "\0\1\2"s;
  const std::array<kafka::RecordHeader, 2> headers{{{"intake-key-id", "team-a"}, {"x-trace", trace}}};
  const std::string value = "binary\0value\xff"s;
  const kafka::OutgoingRecord record{
      .topic = "events.a", .key = "user-42", .value = value, .partition = 3, .headers = headers, .listener = nullptr};
  std::string payload;
  encode(record, payload);
  EXPECT_EQ(payload.size(), encoded_size(record));

  DecodedRecord decoded;
  ASSERT_TRUE(decode(payload, decoded));
  EXPECT_EQ(decoded.topic, "events.a");
  EXPECT_EQ(decoded.key, "user-42");
  EXPECT_EQ(decoded.value, value);
  EXPECT_EQ(decoded.partition, 3);
  ASSERT_EQ(decoded.headers.size(), 2u);
  EXPECT_EQ(decoded.headers[1].name, "x-trace");
  EXPECT_EQ(decoded.headers[1].value, "\0\1\2"s);
  const auto outgoing = decoded.outgoing();
  EXPECT_EQ(outgoing.headers.size(), 2u);
  EXPECT_EQ(outgoing.listener, nullptr);
}

TEST(RecordCodec, EmptyKeyAndNoHeadersStayEmpty) {
  const kafka::OutgoingRecord record{
      .topic = "t", .key = {}, .value = "v", .partition = -1, .headers = {}, .listener = nullptr};
  std::string payload;
  encode(record, payload);
  DecodedRecord decoded;
  ASSERT_TRUE(decode(payload, decoded));
  EXPECT_TRUE(decoded.key.empty());
  EXPECT_TRUE(decoded.headers.empty());
  EXPECT_EQ(decoded.partition, -1);
}

TEST(RecordCodec, RejectsTruncatedPayloadsAndTrailingBytes) {
  const kafka::OutgoingRecord record{
      .topic = "t", .key = "k", .value = "value", .partition = 0, .headers = {}, .listener = nullptr};
  std::string payload;
  encode(record, payload);
  DecodedRecord decoded;
  for (std::size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_FALSE(decode(std::string_view(payload).substr(0, cut), decoded)) << "cut at " << cut;
  }
  EXPECT_FALSE(decode(payload + "x", decoded));
  std::string unknown_format = payload;
  unknown_format[0] = 9;
  EXPECT_FALSE(decode(unknown_format, decoded));
}

}  // namespace
}  // namespace intake::spool
