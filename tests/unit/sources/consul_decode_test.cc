#include <gtest/gtest.h>

#include "sources/consul_client.h"
#include "sources/consul_health.h"
#include "sources/consul_kv.h"

namespace intake::sources {
namespace {

// The message of a failed decode; "" when it succeeded.
template <typename T>
std::string error_of(const Result<T>& result) {
  return result ? std::string() : result.error().message;
}

TEST(DecodeKvAnswer, DecodesBase64AndNullValuesRelativeToThePrefix) {
  HttpAnswer answer;
  answer.status = 200;
  answer.body = R"([{"Key":"intake/","Value":null,"ModifyIndex":5},
                    {"Key":"intake/keys/a","Value":"eyJ4IjoxfQ==","ModifyIndex":7},
                    {"Key":"intake/brokers/h:1","Value":null,"ModifyIndex":8}])";
  const auto tree = decode_kv_answer(answer, "intake/");
  ASSERT_EQ(error_of(tree), "");
  EXPECT_EQ(tree->prefix, "intake/");
  EXPECT_EQ(tree->entries.size(), 3u);
  EXPECT_EQ(tree->entries.at("keys/a"), R"({"x":1})");
  EXPECT_EQ(tree->entries.at("brokers/h:1"), "");
  EXPECT_EQ(tree->entries.at(""), "");
}

TEST(DecodeKvAnswer, NotFoundIsAnEmptyTree) {
  HttpAnswer answer;
  answer.status = 404;
  const auto tree = decode_kv_answer(answer, "intake/");
  ASSERT_EQ(error_of(tree), "");
  EXPECT_TRUE(tree->entries.empty());
}

TEST(DecodeKvAnswer, ReportsGarbage) {
  HttpAnswer answer;
  answer.status = 200;
  answer.body = "{}";
  EXPECT_EQ(error_of(decode_kv_answer(answer, "intake/")), "Consul's KV answer is not a JSON array");
  answer.body = R"([{"Key":"intake/a","Value":"!!!"}])";
  EXPECT_NE(error_of(decode_kv_answer(answer, "intake/")).find("not base64"), std::string::npos);
}

TEST(DecodeHealthAnswer, PrefersServiceAddressAndFallsBackToNodeAddress) {
  const auto decoded = decode_health_answer(R"([
      {"Node":{"Address":"10.0.0.1"},"Service":{"Address":"","Port":9092}},
      {"Node":{"Address":"10.0.0.2"},"Service":{"Address":"kafka-b.local","Port":9093}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"Address":"","Port":9092}}])");
  ASSERT_EQ(error_of(decoded), "");
  const HealthInstances& instances = decoded.value();
  EXPECT_EQ(instances.brokers, (std::vector<std::string>{"10.0.0.1:9092", "kafka-b.local:9093"}));
  EXPECT_TRUE(instances.skipped.empty());
  EXPECT_NE(error_of(decode_health_answer(R"({"Node":{}})")), "");  // not an array: the answer fails whole
}

// One instance registered without a port must not freeze discovery of all the others.
TEST(DecodeHealthAnswer, AnInstanceWithoutAPortIsLeftOutAndTheOthersKept) {
  const auto decoded = decode_health_answer(R"([
      {"Node":{"Node":"n1","Address":"10.0.0.1"},"Service":{"ID":"kafka-1","Address":"","Port":0}},
      {"Node":{"Node":"n2","Address":"10.0.0.2"},"Service":{"ID":"kafka-2","Address":""}},
      {"Node":{"Node":"n3","Address":"10.0.0.3"},"Service":{"ID":"kafka-3","Address":"","Port":9092}},
      {"Node":{"Node":"n4"},"Service":{"ID":"kafka-4","Port":9092}}])");
  ASSERT_EQ(error_of(decoded), "");
  const HealthInstances& instances = decoded.value();
  EXPECT_EQ(instances.brokers, (std::vector<std::string>{"10.0.0.3:9092"}));
  ASSERT_EQ(instances.skipped.size(), 3u);
  EXPECT_NE(instances.skipped[0].find("'kafka-1' on node 'n1'"), std::string::npos) << instances.skipped[0];
  EXPECT_NE(instances.skipped[0].find("Service.Port"), std::string::npos);
  EXPECT_NE(instances.skipped[1].find("'kafka-2'"), std::string::npos);
  EXPECT_NE(instances.skipped[2].find("neither Service.Address nor Node.Address"), std::string::npos);
}

// Addresses go into librdkafka's comma-separated bootstrap list: one that is no host name or
// IP address is left out, so it cannot add brokers nobody registered.
TEST(DecodeHealthAnswer, AnAddressThatIsNoHostIsLeftOutAndCannotAddBrokers) {
  const auto decoded = decode_health_answer(R"([
      {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"comma","Address":"10.0.0.9:9092,evil.example","Port":9092}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"space","Address":"a b","Port":9092}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"newline","Address":"h\nevil","Port":9092}},
      {"Node":{"Address":"10.0.0.1,evil.example"},"Service":{"ID":"node-comma","Address":"","Port":9092}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"colon","Address":"h:1","Port":9092}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"ID":"ok","Address":"kafka-1.internal","Port":9092}}])");
  ASSERT_EQ(error_of(decoded), "");
  const HealthInstances& instances = decoded.value();
  EXPECT_EQ(instances.brokers, (std::vector<std::string>{"kafka-1.internal:9092"}));
  ASSERT_EQ(instances.skipped.size(), 5u);
  EXPECT_NE(instances.skipped[0].find("'10.0.0.9:9092,evil.example', which is no host name or IP address"),
            std::string::npos)
      << instances.skipped[0];
  EXPECT_NE(instances.skipped[2].find("'h?evil'"), std::string::npos)
      << instances.skipped[2];  // no raw newline in logs
}

TEST(DecodeHealthAnswer, Ipv6AddressesComeOutInBrackets) {
  const auto decoded = decode_health_answer(R"([
      {"Node":{"Address":"10.0.0.1"},"Service":{"Address":"::1","Port":9092}},
      {"Node":{"Address":"10.0.0.1"},"Service":{"Address":"[2001:db8::7]","Port":9093}},
      {"Node":{"Address":"fe80::1"},"Service":{"Address":"","Port":9094}}])");
  ASSERT_EQ(error_of(decoded), "");
  const HealthInstances& instances = decoded.value();
  EXPECT_EQ(instances.brokers, (std::vector<std::string>{"[2001:db8::7]:9093", "[::1]:9092", "[fe80::1]:9094"}));
  EXPECT_TRUE(instances.skipped.empty());
}

TEST(BlockingQueryRules, IndexNeverDropsBelowOne) {
  EXPECT_EQ(next_index(0), 1u);
  EXPECT_EQ(next_index(1), 1u);
  EXPECT_EQ(next_index(12345), 12345u);
}

TEST(BlockingQueryRules, BackoffDoublesWithJitterFrom250MsTo30s) {
  using std::chrono::milliseconds;
  Backoff backoff;
  std::vector<milliseconds> delays;
  for (int i = 0; i < 12; ++i) delays.push_back(backoff.next());
  EXPECT_GE(delays[0], milliseconds(125));
  EXPECT_LE(delays[0], milliseconds(250));
  EXPECT_GE(delays[3], milliseconds(1'000));  // base 2 s
  EXPECT_LE(delays[3], milliseconds(2'000));
  for (auto d : delays) EXPECT_LE(d, milliseconds(30'000));
  EXPECT_GE(delays.back(), milliseconds(15'000));  // capped base 30 s, jittered to >= half
  backoff.reset();
  EXPECT_LE(backoff.next(), milliseconds(250));
}

TEST(ParseConsulAddress, AcceptsHttpUrlsAndRejectsNonsense) {
  const auto endpoint = parse_consul_address("http://127.0.0.1:18500/", "tok");
  EXPECT_EQ(endpoint.http.host, "127.0.0.1");
  EXPECT_EQ(endpoint.http.port, 18500);
  EXPECT_EQ(endpoint.token, "tok");
  EXPECT_THROW(parse_consul_address("127.0.0.1", ""), std::invalid_argument);
  EXPECT_THROW(parse_consul_address("http://h:0", ""), std::invalid_argument);
}

}  // namespace
}  // namespace intake::sources
