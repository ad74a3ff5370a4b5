// Compressed request bodies and idempotent retries, against the real binary and the real
// broker: what the client was told is checked against what Kafka holds, consumed back.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "peers.h"

namespace intake {
namespace {

constexpr const char* kSecret = "features-secret";

std::string gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const auto size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
  if (ZSTD_isError(size)) throw std::runtime_error("ZSTD_compress");
  out.resize(size);
  return out;
}

// Sends `request` on a fresh connection and closes it without reading the answer: a client
// whose connection dropped before the response came back.
void send_and_drop(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0) throw std::runtime_error("connect");
  std::string_view rest = request;
  while (!rest.empty()) {
    const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

class IngestFeatures : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    yaml.keys.push_back({"features", kSecret, {"features.*"}});
    yaml.server_fields = {{"max_body_bytes", "1048576"}};
    port = yaml.port;
    gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
  }

  testing::HttpReply post(const std::string& path, const std::string& body,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Authorization", std::string("Bearer ") + kSecret);
    return testing::http_request("127.0.0.1", port, "POST", path, body, headers);
  }

  std::string bootstrap;
  std::uint16_t port = 0;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

TEST_F(IngestFeatures, GzipAndZstdBodiesAreProducedDecompressedOnEveryRouteKind) {
  const std::string topic = testing::unique_name("features.compressed");
  const std::string ndjson = "{\"key\":\"g1\",\"value\":\"gzipped-1\"}\n{\"key\":\"g2\",\"value\":\"gzipped-2\"}\n";
  auto reply = post("/v1/topics/" + topic + "/records", gzip(ndjson), {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.body, R"({"accepted":2})");
  reply =
      post("/v1/topics/" + topic, zstd("zstd-single"), {{"Content-Encoding", "zstd"}, {"X-Intake-Record-Key", "z1"}});
  ASSERT_EQ(reply.status, 202) << reply.body;
  reply = post("/topics/" + topic, zstd(R"({"records":[{"key":"v2","value":"zstd-v2"}]})"),
               {{"Content-Encoding", "zstd"}, {"Content-Type", "application/vnd.kafka.json.v2+json"}});
  ASSERT_EQ(reply.status, 200) << reply.body;

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  std::map<std::string, std::string> by_key;
  for (const auto& record : testing::consume_to_end(bootstrap, topic)) by_key[record.key] = record.value;
  ASSERT_EQ(by_key.size(), 4u);
  EXPECT_EQ(by_key["g1"], "gzipped-1");
  EXPECT_EQ(by_key["g2"], "gzipped-2");
  EXPECT_EQ(by_key["z1"], "zstd-single");
  EXPECT_EQ(by_key["\"v2\""], "\"zstd-v2\"");
}

TEST_F(IngestFeatures, ABombIsRefusedWith413WithoutBeingInflatedAndAnUnknownEncodingWith415) {
  const std::string topic = testing::unique_name("features.bomb");
  // 64 MiB of zeros in about 64 KiB on the wire: a 1000x bomb against a 1 MiB limit.
  const std::string bomb = gzip(std::string(64u << 20, '0'));
  ASSERT_LT(bomb.size(), 1u << 20);
  auto reply = post("/v1/topics/" + topic, bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(reply.status, 413) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"payload_too_large")"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("1048576"), std::string::npos) << reply.body;  // names the limit
  reply = post("/v1/topics/" + topic, zstd(std::string(64u << 20, '0')), {{"Content-Encoding", "zstd"}});
  EXPECT_EQ(reply.status, 413) << reply.body;
  reply = post("/v1/topics/" + topic, "x", {{"Content-Encoding", "br"}});
  EXPECT_EQ(reply.status, 415) << reply.body;
  EXPECT_NE(reply.body.find(R"("code":"unsupported_content_encoding")"), std::string::npos) << reply.body;
  reply = post("/v1/topics/" + topic, "not gzip at all", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(reply.status, 400) << reply.body;
  // The gateway is still well: the process did not balloon or die.
  EXPECT_EQ(post("/v1/topics/" + topic, "fine").status, 202);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  EXPECT_EQ(testing::consume_to_end(bootstrap, topic).size(), 1u);
}

TEST_F(IngestFeatures, ASyncRetryAfterADroppedResponseGetsTheFirstAnswerAndProducesNothingNew) {
  const std::string topic = testing::unique_name("features.idempotent");
  const std::string path = "/v1/topics/" + topic + "?sync=true";
  const std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", std::string("Bearer ") + kSecret},
                                                                    {"Idempotency-Key", "order-7781"}};
  // The first attempt's connection drops before its answer is read.
  send_and_drop(port, testing::build_request("POST", path, "order 7781 paid", headers));
  // The client retries until it gets an answer (409 while the first is still in flight).
  testing::HttpReply first;
  for (int attempt = 0; attempt < 100; ++attempt) {
    first = testing::http_request("127.0.0.1", port, "POST", path, "order 7781 paid", headers);
    if (first.status != 409) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(first.status, 200) << first.body;
  // Every later retry gets the same answer: the same partition and offset.
  const auto again = testing::http_request("127.0.0.1", port, "POST", path, "order 7781 paid", headers);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  // The same key with another body is a client bug, not a retry.
  const auto other = testing::http_request("127.0.0.1", port, "POST", path, "order 7781 refunded", headers);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_NE(other.body.find(R"("code":"idempotency_key_reused")"), std::string::npos) << other.body;

  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  const auto records = testing::consume_to_end(bootstrap, topic);
  ASSERT_EQ(records.size(), 1u);  // four requests, one record
  EXPECT_EQ(records[0].value, "order 7781 paid");
  EXPECT_NE(first.body.find("\"offset\":" + std::to_string(records[0].offset)), std::string::npos) << first.body;
  std::map<std::string, std::string> record_headers(records[0].headers.begin(), records[0].headers.end());
  EXPECT_EQ(record_headers["intake-idempotency-key"], "order-7781");  // for consumers across gateways
}

TEST_F(IngestFeatures, AnAsyncBatchRetriedWithItsKeyIsProducedOnce) {
  const std::string topic = testing::unique_name("features.idempotent-batch");
  const std::string body = "{\"value\":\"a\"}\n{\"value\":\"b\"}\n";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto reply = post("/v1/topics/" + topic + "/records", body, {{"Idempotency-Key", "batch-1"}});
    ASSERT_EQ(reply.status, 202) << reply.body;
    EXPECT_EQ(reply.body, R"({"accepted":2})");
  }
  // A key that is not 1-255 visible characters is refused, not ignored.
  EXPECT_EQ(post("/v1/topics/" + topic, "x", {{"Idempotency-Key", std::string(256, 'k')}}).status, 400);
  EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
  EXPECT_EQ(testing::consume_to_end(bootstrap, topic).size(), 2u);
}

}  // namespace
}  // namespace intake
