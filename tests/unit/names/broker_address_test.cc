#include "names/broker_address.h"

#include <gtest/gtest.h>

namespace intake::names {
namespace {

TEST(BrokerAddress, AcceptsHostNamesIpv4AndBracketedIpv6) {
  for (auto text : {"kafka-1:9092", "kafka_2.internal:1", "10.0.0.1:65535", "[::1]:9092", "[2001:db8::7]:9093"}) {
    EXPECT_TRUE(is_broker_address(text)) << text;
  }
}

TEST(BrokerAddress, RejectsWhatCouldAddOrMangleBootstrapServers) {
  for (auto text : {"a,b:9092",
                    "a:1,b:9092",
                    "a b:9092",
                    " a:9092",
                    "a\n:9092",
                    "a;b:9092",
                    "::1:9092",
                    "[::1]",
                    "[nope]:9092",
                    "[::1]x:9092",
                    "[fe80::1%eth0]:9092",
                    ":9092",
                    "h:",
                    "h",
                    "h:0",
                    "h:65536",
                    "h:+1",
                    "h:-1",
                    "h:9092 ",
                    "[]:9092"}) {
    EXPECT_FALSE(is_broker_address(text)) << text;
  }
}

TEST(BrokerAddress, MakesHostPortAndBracketsIpv6) {
  EXPECT_EQ(make_broker_address("kafka-1", 9092), "kafka-1:9092");
  EXPECT_EQ(make_broker_address("10.0.0.1", 1), "10.0.0.1:1");
  EXPECT_EQ(make_broker_address("::1", 9092), "[::1]:9092");
  EXPECT_EQ(make_broker_address("[::1]", 9092), "[::1]:9092");
  for (auto host : {"", "a,b", "a b", "h:1", "[h]", "[::1", "fe80::1%eth0"}) {
    EXPECT_EQ(make_broker_address(host, 9092), std::nullopt) << host;
  }
  EXPECT_EQ(make_broker_address("kafka-1", 0), std::nullopt);
  EXPECT_EQ(make_broker_address("kafka-1", 65536), std::nullopt);
}

// Both paths share the rule: whatever health discovery makes, a brokers/ key may be named.
TEST(BrokerAddress, EverythingMadePassesTheCheck) {
  for (auto host : {"kafka-1", "10.0.0.1", "::1", "[2001:db8::7]", "::ffff:10.0.0.1"}) {
    const auto made = make_broker_address(host, 9092);
    ASSERT_TRUE(made) << host;
    EXPECT_TRUE(is_broker_address(*made)) << *made;
  }
}

}  // namespace
}  // namespace intake::names
