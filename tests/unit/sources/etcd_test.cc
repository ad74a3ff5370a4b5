// Decoding etcd's v3 JSON gateway: range answers, watch messages and their quirks (int64s as
// strings, PUT without "type", compaction, gateway errors), and applying event batches.
#include "sources/etcd.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "encoding/base64.h"

namespace intake::sources {
namespace {

using Entries = std::map<std::string, std::string>;

std::string b64(const std::string& text) { return encoding::base64_encode(text); }

// The message of a failed decode; "" when it succeeded.
template <typename T>
std::string error_of(const Result<T>& result) {
  return result ? std::string() : result.error().message;
}

TEST(EtcdPrefixRangeEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(etcd_prefix_range_end("intake/"), "intake0");
  EXPECT_EQ(etcd_prefix_range_end("a\xff"), "b");
  EXPECT_EQ(etcd_prefix_range_end(std::string("\xff\xff")), std::string(1, '\0'));
  EXPECT_EQ(etcd_prefix_range_end(""), std::string(1, '\0'));
}

TEST(DecodeEtcdRange, DecodesKeysRelativeToThePrefixWithStringRevisions) {
  const std::string body = R"({"header":{"cluster_id":"14592734218745853725","revision":"42","raft_term":"2"},
      "kvs":[{"key":")" + b64("intake/keys/a") +
                           R"(","create_revision":"8","mod_revision":"40","version":"1","value":")" +
                           b64(R"({"x":1})") + R"("},
             {"key":")" + b64("intake/brokers/h:9092") +
                           R"(","mod_revision":"41","version":"1"},
             {"key":")" + b64("intake/settings") +
                           R"(","mod_revision":"7","value":")" + b64("{}") + R"("}],
      "count":"3"})";
  const auto decoded = decode_etcd_range(body, "intake/");
  ASSERT_EQ(error_of(decoded), "");
  const EtcdRangePage& page = decoded.value();
  EXPECT_EQ(page.revision, 42);
  EXPECT_FALSE(page.more);
  EXPECT_EQ(page.last_key, "intake/settings");
  // A value at its default (empty) is omitted by the gateway: an empty string.
  EXPECT_EQ(page.entries, (Entries{{"keys/a", R"({"x":1})"}, {"brokers/h:9092", ""}, {"settings", "{}"}}));
}

TEST(DecodeEtcdRange, AnEmptyRangeHasNoKvsAndIsAnEmptyTree) {
  const auto page = decode_etcd_range(R"({"header":{"revision":"9"}})", "intake/");
  ASSERT_EQ(error_of(page), "");
  EXPECT_EQ(page->revision, 9);
  EXPECT_TRUE(page->entries.empty());
}

TEST(DecodeEtcdRange, ReportsMoreAndTakesNumericRevisionsToo) {
  const std::string body = R"({"header":{"revision":7},"more":true,"kvs":[{"key":")" + b64("intake/a") + R"("}]})";
  const auto page = decode_etcd_range(body, "intake/");
  ASSERT_EQ(error_of(page), "");
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->revision, 7);
  EXPECT_EQ(page->last_key, "intake/a");
}

TEST(DecodeEtcdRange, RejectsGarbage) {
  EXPECT_EQ(error_of(decode_etcd_range("[]", "intake/")), "etcd's range answer is not a JSON object");
  EXPECT_NE(error_of(decode_etcd_range(R"({"kvs":[]})", "intake/")), "");  // no header.revision
  EXPECT_NE(error_of(decode_etcd_range(R"({"header":{"revision":"x1"}})", "intake/")), "");
  EXPECT_NE(error_of(decode_etcd_range(R"({"header":{"revision":"1"},"kvs":[{"key":"!!"}]})", "intake/")), "");
  const std::string bad_value =
      R"({"header":{"revision":"1"},"kvs":[{"key":")" + b64("intake/a") + R"(","value":"%%%"}]})";
  EXPECT_NE(error_of(decode_etcd_range(bad_value, "intake/")).find("not base64"), std::string::npos);
}

TEST(DecodeEtcdWatch, TheFirstMessageIsTheCreatedConfirmation) {
  const auto decoded = decode_etcd_watch_message(
      R"({"result":{"header":{"cluster_id":"1","member_id":"2","revision":"8","raft_term":"2"},"created":true}})");
  ASSERT_EQ(error_of(decoded), "");
  const EtcdWatchMessage& message = decoded.value();
  EXPECT_TRUE(message.created);
  EXPECT_FALSE(message.canceled);
  EXPECT_EQ(message.revision, 8);
  EXPECT_TRUE(message.events.empty());
}

TEST(DecodeEtcdWatch, PutHasNoTypeAndDeleteSaysSo) {
  const std::string text = R"({"result":{"header":{"revision":"9"},"events":[
      {"kv":{"key":")" + b64("intake/keys/a") +
                           R"(","create_revision":"8","mod_revision":"8","version":"1","value":")" + b64("v1") + R"("}},
      {"type":"DELETE","kv":{"key":")" +
                           b64("intake/keys/b") + R"(","mod_revision":"9"}},
      {"type":"PUT","kv":{"key":")" +
                           b64("intake/c") + R"(","mod_revision":"9"}}]}})";
  const auto decoded = decode_etcd_watch_message(text);
  ASSERT_EQ(error_of(decoded), "");
  const EtcdWatchMessage& message = decoded.value();
  EXPECT_EQ(message.revision, 9);
  ASSERT_EQ(message.events.size(), 3u);
  EXPECT_EQ(message.events[0].type, EtcdEvent::Type::kPut);
  EXPECT_EQ(message.events[0].key, "intake/keys/a");
  EXPECT_EQ(message.events[0].value, "v1");
  EXPECT_EQ(message.events[0].mod_revision, 8);
  EXPECT_EQ(message.events[1].type, EtcdEvent::Type::kDelete);
  EXPECT_EQ(message.events[1].key, "intake/keys/b");
  EXPECT_EQ(message.events[2].type, EtcdEvent::Type::kPut);
  EXPECT_EQ(message.events[2].value, "");
}

TEST(DecodeEtcdWatch, CompactionCancelsTheWatchWithoutAHeaderRevision) {
  // As etcd 3.4.23 sends it when the start revision was compacted away.
  const auto decoded = decode_etcd_watch_message(
      R"({"result":{"header":{"cluster_id":"1","member_id":"2","raft_term":"2"},"canceled":true,"compact_revision":"9"}})");
  ASSERT_EQ(error_of(decoded), "");
  const EtcdWatchMessage& message = decoded.value();
  EXPECT_TRUE(message.canceled);
  EXPECT_EQ(message.compact_revision, 9);
  EXPECT_EQ(message.revision, 0);
}

TEST(DecodeEtcdWatch, CancellationCarriesItsReason) {
  const auto decoded = decode_etcd_watch_message(
      R"({"result":{"header":{"revision":"2"},"watch_id":"-1","created":true,"canceled":true,
          "cancel_reason":"rpc error: code = PermissionDenied desc = etcdserver: permission denied"}})");
  ASSERT_EQ(error_of(decoded), "");
  const EtcdWatchMessage& message = decoded.value();
  EXPECT_TRUE(message.created);
  EXPECT_TRUE(message.canceled);
  EXPECT_EQ(message.compact_revision, 0);
  EXPECT_NE(message.cancel_reason.find("permission denied"), std::string::npos);
}

TEST(DecodeEtcdWatch, GatewayErrorsAreMessagesNotDecodingFailures) {
  const auto decoded = decode_etcd_watch_message(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_EQ(error_of(decoded), "");
  const EtcdWatchMessage& message = decoded.value();
  EXPECT_EQ(message.error, "etcdserver: no leader");
  const auto plain = decode_etcd_watch_message(R"({"error":"invalid character","code":3})");
  ASSERT_EQ(error_of(plain), "");
  EXPECT_EQ(plain->error, "invalid character");
}

TEST(DecodeEtcdWatch, RejectsGarbage) {
  EXPECT_EQ(error_of(decode_etcd_watch_message("{")), "a watch message is not a JSON object");
  EXPECT_NE(error_of(decode_etcd_watch_message(R"({"header":{}})")), "");  // no result
  EXPECT_NE(error_of(decode_etcd_watch_message(R"({"result":{"events":[{"type":"PUT"}]}})")), "");
  EXPECT_NE(error_of(decode_etcd_watch_message(R"({"result":{"events":[{"type":"MERGE","kv":{"key":"YQ=="}}]}})")), "");
  EXPECT_NE(error_of(decode_etcd_watch_message(R"({"result":{"compact_revision":"soon"}})")), "");
}

TEST(ApplyEtcdEvents, AppliesABatchInOrderAndIgnoresOtherPrefixes) {
  Entries entries{{"keys/a", "1"}, {"keys/b", "2"}};
  std::vector<EtcdEvent> events(4);
  events[0] = {EtcdEvent::Type::kPut, "intake/keys/c", "3", 10};
  events[1] = {EtcdEvent::Type::kDelete, "intake/keys/a", "", 10};
  events[2] = {EtcdEvent::Type::kPut, "intake/keys/b", "22", 11};
  events[3] = {EtcdEvent::Type::kPut, "other/keys/x", "x", 11};
  apply_etcd_events(events, "intake/", entries);
  EXPECT_EQ(entries, (Entries{{"keys/b", "22"}, {"keys/c", "3"}}));
}

}  // namespace
}  // namespace intake::sources
