// The connection layer's limits and clocks, end to end on loopback: caps, timeouts per phase,
// the body budget, answers decided from the headers before a body is read, pipelining and
// keep-alive. Behaviour only: every bound below is a configured timeout plus generous slack.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/ordered_reports.h"
#include "eventually.h"
#include "http/server.h"

namespace intake {
namespace {

using Clock = std::chrono::steady_clock;

// A raw client socket, optionally from another loopback address (127.0.0.2 …) so one test can
// be several clients.
class RawClient {
 public:
  // `receive_buffer` > 0: a small SO_RCVBUF, so the server's writes to a client that does not
  // read block soon.
  explicit RawClient(std::uint16_t port, const char* from = "127.0.0.1", int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) throw std::runtime_error("bind");
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0) throw std::runtime_error("connect");
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Reads until `needle` has been seen `count` times, the peer closes, or the time is up.
  std::string read_until(std::string_view needle, int timeout_ms, int count = 1) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    int seen = 0;
    std::size_t from = 0;  // counted incrementally: answers can be megabytes
    for (;;) {
      for (auto at = received_.find(needle, from); at != std::string::npos; at = received_.find(needle, from)) {
        ++seen;
        from = at + 1;
      }
      if (seen >= count || closed_) break;
      if (received_.size() >= needle.size()) from = std::max(from, received_.size() - needle.size() + 1);
      if (!fill(deadline)) break;
    }
    return received_;
  }
  // True if the peer closed (EOF or reset) within the time; what it sent is in received().
  bool closed_within(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!closed_) {
      if (!fill(deadline)) break;
    }
    return closed_;
  }
  const std::string& received() const { return received_; }

 private:
  bool fill(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[65536];
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    received_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string received_;
  bool closed_ = false;
};

// Refuses from the headers unless `Authorization: Bearer good`; echoes the body with 202.
// `X-Defer-Ms: N` answers through a DeferredResponse N ms later (never, with N = 0).
class GuardedEcho final : public http::Handler {
 public:
  std::optional<http::Response> check_headers(const http::Request& request, const http::RouteParams&) override {
    checked.fetch_add(1);
    if (request.header("Authorization") != "Bearer good") {
      return http::error_response(Error{ErrorCode::kInvalidApiKey, "the key is not known"});
    }
    return std::nullopt;
  }
  http::Response handle(const http::Request& request, const http::RouteParams&) override {
    handled.fetch_add(1);
    const std::string_view defer = request.header("X-Defer-Ms");
    if (defer.empty()) return http::json_response(202, std::string(request.body));
    http::Response response;
    response.deferred = std::make_shared<http::DeferredResponse>();
    response.deferred_timeout_ms = 400;
    const int after_ms = std::stoi(std::string(defer));
    if (after_ms > 0) {
      std::thread([pending = response.deferred, after_ms] {
        std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
        pending->complete(http::json_response(200, "{\"late\":true}"));
      }).detach();
    }
    return response;
  }
  std::atomic<int> checked{0};
  std::atomic<int> handled{0};
};

// Streams: each line of the body is acknowledged as "ack:<line>\n" from another thread, the
// first line of a request late (120 ms) and the others at once, so order must be restored. A
// line "stop" ends the stream early, unread rest and all.
class LineStream final : public http::BodyStream {
 public:
  explicit LineStream(std::shared_ptr<http::StreamOutput> output)
      : reports_(std::make_shared<api::OrderedReports>(std::move(output))) {}
  bool on_body(std::string& body) override {
    for (auto newline = body.find('\n'); newline != std::string::npos; newline = body.find('\n')) {
      std::string line = body.substr(0, newline);
      body.erase(0, newline + 1);
      if (line == "stop") {
        reports_->fill(reports_->reserve(), "stopped\n");
        reports_->end();
        return false;
      }
      const auto slot = reports_->reserve();
      const int delay_ms = lines_++ == 0 ? 120 : 0;
      std::thread([reports = reports_, slot, delay_ms, line] {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        reports->fill(slot, "ack:" + line + "\n");
      }).detach();
    }
    return true;
  }
  void on_end(std::string& body) override {
    if (!body.empty()) reports_->fill(reports_->reserve(), "partial:" + body + "\n");
    reports_->end();
  }

 private:
  std::shared_ptr<api::OrderedReports> reports_;
  int lines_ = 0;
};

class StreamingEcho final : public http::Handler {
 public:
  http::Response handle(const http::Request& request, const http::RouteParams&) override {
    return http::json_response(200, "whole:" + std::string(request.body));
  }
  std::unique_ptr<http::BodyStream> open_stream(const http::Request&, const http::RouteParams&,
                                                const std::shared_ptr<http::StreamOutput>& output) override {
    return std::make_unique<LineStream>(output);
  }
};

std::string post(std::string_view body, std::string_view extra_headers = "Authorization: Bearer good\r\n") {
  return "POST /echo HTTP/1.1\r\nHost: x\r\n" + std::string(extra_headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

class ConnectionLayerTest : public ::testing::Test {
 protected:
  void start(const std::function<void(http::ServerOptions&)>& adjust = {}) {
    router.add(http::Method::kPost, "/echo", echo);
    router.add(http::Method::kPost, "/stream", streaming);
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 1024 * 1024;
    options.header_timeout_ms = 600;
    options.body_timeout_ms = 600;
    options.body_min_bytes_per_s = 2000;
    options.idle_timeout_ms = 1'000;
    if (adjust) adjust(options);
    server = std::make_unique<http::HttpServer>(options, router);
    server->start();
  }
  std::uint16_t port() const { return server->port(); }

  GuardedEcho echo;
  StreamingEcho streaming;
  http::Router router;
  http::ServerOptions options;
  std::unique_ptr<http::HttpServer> server;
};

TEST_F(ConnectionLayerTest, PerClientCapAnswers503WithRetryAfterWhileOtherClientsAreServed) {
  start([](http::ServerOptions& o) { o.max_connections_per_ip = 3; });
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(port()));
    ASSERT_TRUE(held.back()->send(post("held")));
    ASSERT_NE(held.back()->read_until("held", 2'000).find("202"), std::string::npos);
  }
  RawClient over(port());
  over.send(post("over"));
  ASSERT_TRUE(over.closed_within(3'000));
  EXPECT_NE(over.received().find("HTTP/1.1 503"), std::string::npos) << over.received();
  EXPECT_NE(over.received().find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(over.received().find("too_many_connections"), std::string::npos);
  EXPECT_NE(over.received().find("max_connections_per_ip"), std::string::npos);

  RawClient other(port(), "127.0.0.2");
  other.send(post("other"));
  EXPECT_NE(other.read_until("other", 2'000).find("HTTP/1.1 202"), std::string::npos);
  EXPECT_EQ(server->counters().refused_client_cap.load(), 1u);

  // A place given back is a place to take.
  held.pop_back();
  EXPECT_TRUE(testing::eventually([&] {
    RawClient again(port());
    again.send(post("again"));
    return again.read_until("again", 1'000).find("HTTP/1.1 202") != std::string::npos;
  }));
}

TEST_F(ConnectionLayerTest, GlobalCapRefusesPastItAndCountsIt) {
  start([](http::ServerOptions& o) {
    o.max_connections = 2;
    o.max_connections_per_ip = 0;
  });
  RawClient a(port(), "127.0.0.3");
  RawClient b(port(), "127.0.0.4");
  a.send(post("a"));
  b.send(post("b"));
  ASSERT_NE(a.read_until("\r\n\r\na", 2'000).find("HTTP/1.1 202"), std::string::npos);
  ASSERT_NE(b.read_until("\r\n\r\nb", 2'000).find("HTTP/1.1 202"), std::string::npos);
  EXPECT_EQ(server->open_connections(), 2u);
  RawClient c(port(), "127.0.0.5");
  ASSERT_TRUE(c.closed_within(3'000));
  EXPECT_NE(c.received().find("HTTP/1.1 503"), std::string::npos) << c.received();
  EXPECT_NE(c.received().find("(server.max_connections)"), std::string::npos);
  EXPECT_EQ(server->counters().refused_global_cap.load(), 1u);
  // The connections inside the cap are still served.
  a.send(post("a2"));
  EXPECT_NE(a.read_until("a2", 2'000).find("a2"), std::string::npos);
}

TEST_F(ConnectionLayerTest, SlowlorisHeadersAreCutWith408WhileOthersAreServed) {
  start();
  RawClient slow(port());
  const auto started = Clock::now();
  slow.send("POST /echo HTTP/1.1\r\nHost: x\r\n");
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    // One header byte every 50 ms: progress, but never a complete head.
    while (!stop.load() && slow.send("a")) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  RawClient normal(port());
  normal.send(post("normal"));
  EXPECT_NE(normal.read_until("normal", 2'000).find("HTTP/1.1 202"), std::string::npos);
  const bool closed = slow.closed_within(4'000);
  stop.store(true);
  trickle.join();
  ASSERT_TRUE(closed);
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(options.header_timeout_ms + 1'500));
  EXPECT_NE(slow.received().find("HTTP/1.1 408"), std::string::npos) << slow.received();
  EXPECT_NE(slow.received().find("request_timeout"), std::string::npos);
  EXPECT_EQ(server->counters().header_timeouts.load(), 1u);
}

TEST_F(ConnectionLayerTest, SlowBodyIsCutWith408AfterItsGraceButAPromptOneIsServed) {
  start();
  RawClient slow(port());
  const std::string head =
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 100000\r\n\r\n";
  slow.send(head);
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    // 10 bytes every 50 ms = 200 bytes/s, a tenth of the required rate.
    while (!stop.load() && slow.send("0123456789")) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  const auto started = Clock::now();
  const bool closed = slow.closed_within(5'000);
  stop.store(true);
  trickle.join();
  ASSERT_TRUE(closed);
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(options.body_timeout_ms + 2'000));
  EXPECT_NE(slow.received().find("HTTP/1.1 408"), std::string::npos) << slow.received();
  EXPECT_NE(slow.received().find("body_min_bytes_per_s"), std::string::npos);
  EXPECT_EQ(echo.handled.load(), 0);
  EXPECT_EQ(server->counters().body_timeouts.load(), 1u);

  // A body that pauses less than the grace and then comes at once is fine.
  RawClient prompt(port());
  const std::string body(20'000, 'x');
  prompt.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 20000\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  prompt.send(body);
  EXPECT_NE(prompt.read_until(body, 3'000).find("HTTP/1.1 202"), std::string::npos);
}

TEST_F(ConnectionLayerTest, IdleKeepAliveConnectionsCloseAfterTheIdleTimeout) {
  start();
  RawClient client(port());
  client.send(post("once"));
  ASSERT_NE(client.read_until("once", 2'000).find("202"), std::string::npos);
  EXPECT_TRUE(client.closed_within(options.idle_timeout_ms + 1'500));
  EXPECT_EQ(client.received().find("408"), std::string::npos);  // idle: closed without an answer
  EXPECT_GE(server->counters().idle_closed.load(), 1u);
}

TEST_F(ConnectionLayerTest, AnUnauthenticatedLargeBodyIsRefusedBeforeContinueAndBeforeItIsRead) {
  start();
  RawClient client(port());
  client.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 900000\r\n"
      "Expect: 100-continue\r\n\r\n");
  ASSERT_TRUE(client.closed_within(4'000));  // answered, then closed: the body would be read as a request
  EXPECT_EQ(client.received().find("100 Continue"), std::string::npos) << client.received();
  EXPECT_EQ(client.received().rfind("HTTP/1.1 401", 0), 0u) << client.received();
  EXPECT_NE(client.received().find("invalid_api_key"), std::string::npos);
  EXPECT_EQ(echo.handled.load(), 0);
  EXPECT_EQ(server->counters().refused_before_body.load(), 1u);

  // Without Expect the answer comes as soon as the headers are in, without a byte of the body.
  RawClient eager(port());
  eager.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n");
  EXPECT_NE(eager.read_until("invalid_api_key", 2'000).find("HTTP/1.1 401"), std::string::npos);

  // With the key, Expect gets 100 Continue first and the record its 202.
  RawClient good(port());
  good.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  ASSERT_NE(good.read_until("100 Continue\r\n\r\n", 2'000).find("HTTP/1.1 100 Continue"), std::string::npos);
  good.send("hello");
  EXPECT_NE(good.read_until("hello", 2'000).find("HTTP/1.1 202"), std::string::npos);
}

TEST_F(ConnectionLayerTest, BodiesInMemoryAreBoundedByTheBudget) {
  start([](http::ServerOptions& o) { o.max_inflight_body_bytes = 100'000; });
  RawClient first(port());
  first.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 80000\r\n\r\n");
  first.send(std::string(1'000, 'a'));
  ASSERT_TRUE(testing::eventually([&] { return server->inflight_body_bytes() == 80'000; }));

  RawClient second(port());
  second.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 80000\r\n\r\n");
  ASSERT_TRUE(second.closed_within(4'000));
  EXPECT_NE(second.received().find("HTTP/1.1 503"), std::string::npos) << second.received();
  EXPECT_NE(second.received().find("server_busy"), std::string::npos);
  EXPECT_NE(second.received().find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(server->counters().body_budget_refused.load(), 1u);

  first.send(std::string(79'000, 'a'));
  EXPECT_NE(first.read_until(std::string(100, 'a'), 3'000).find("HTTP/1.1 202"), std::string::npos);
  EXPECT_TRUE(testing::eventually([&] { return server->inflight_body_bytes() == 0; }));
}

TEST_F(ConnectionLayerTest, PipelinedRequestsAreAnsweredInOrderAndKeepAliveReusesOneConnection) {
  start();
  RawClient client(port());
  std::string burst;
  for (int i = 0; i < 50; ++i) burst += post("{\"n\":" + std::to_string(i) + "}");
  client.send(burst);
  const std::string answers = client.read_until("HTTP/1.1 202", 3'000, 50);
  std::size_t at = 0;
  for (int i = 0; i < 50; ++i) {
    at = answers.find("{\"n\":" + std::to_string(i) + "}", at);
    ASSERT_NE(at, std::string::npos) << "answer " << i << " missing or out of order";
  }
  for (int i = 0; i < 20; ++i) {
    client.send(post("again" + std::to_string(i)));
    client.read_until("again" + std::to_string(i), 2'000);
  }
  EXPECT_NE(client.received().find("again19"), std::string::npos);
  EXPECT_EQ(server->counters().accepted.load(), 1u);
  EXPECT_EQ(echo.handled.load(), 70);
}

TEST_F(ConnectionLayerTest, AClientThatReadsLateStillGetsEveryPipelinedAnswerInOrderThenItsContinue) {
  start([](http::ServerOptions& o) { o.body_timeout_ms = 10'000; });
  RawClient client(port(), "127.0.0.1", 4096);
  // Enough answers that the server's writes block while the client is not reading, then a
  // request that waits for 100 Continue behind them.
  std::string burst;
  constexpr int kRequests = 40000;
  for (int i = 0; i < kRequests; ++i) burst += post("<" + std::to_string(i) + ">");
  burst +=
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 4\r\n"
      "Expect: 100-continue\r\n\r\n";
  std::thread sender([&] { client.send(burst); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string answers = client.read_until("100 Continue", 10'000);
  sender.join();
  std::size_t at = 0;
  for (int i = 0; i < kRequests; ++i) {
    at = answers.find("<" + std::to_string(i) + ">", at);
    ASSERT_NE(at, std::string::npos) << "answer " << i << " missing or out of order";
  }
  ASSERT_NE(answers.find("HTTP/1.1 100 Continue", at), std::string::npos);
  client.send("last");
  EXPECT_NE(client.read_until("\r\n\r\nlast", 3'000).find("\r\n\r\nlast", at), std::string::npos)
      << client.received().substr(client.received().size() - std::min<std::size_t>(400, client.received().size()));
  EXPECT_EQ(echo.handled.load(), kRequests + 1);
}

TEST_F(ConnectionLayerTest, ALateSyncAnswerIsWrittenOnAFreshWriteClock) {
  start([](http::ServerOptions& o) { o.write_timeout_ms = 100; });
  RawClient client(port());
  // Kafka's answer comes after 250 ms, longer than the write clock: it must still be written.
  client.send(post("late", "Authorization: Bearer good\r\nX-Defer-Ms: 250\r\n"));
  EXPECT_NE(client.read_until("late", 3'000).find("HTTP/1.1 200"), std::string::npos) << client.received();
  // No answer at all: 504 at the sync deadline, on the same connection.
  client.send(post("never", "Authorization: Bearer good\r\nX-Defer-Ms: 0\r\n"));
  EXPECT_NE(client.read_until("delivery_timeout", 3'000).find("HTTP/1.1 504"), std::string::npos) << client.received();
  EXPECT_EQ(server->counters().sync_timeouts.load(), 1u);
}

TEST_F(ConnectionLayerTest, FramingThatCouldSmuggleARequestIsRefused) {
  start();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"obs-fold",
       "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nX-A: one\r\n two\r\n"
       "Content-Length: 2\r\n\r\nhi"},
      {"not chunked",
       "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"both",
       "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 3\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"chunked 1.0",
       "POST /echo HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n"
       "\r\n2\r\nhi\r\n0\r\n\r\n"},
  };
  for (const auto& [name, request] : cases) {
    RawClient client(port());
    client.send(request);
    EXPECT_TRUE(client.closed_within(3'000)) << name;
    EXPECT_EQ(client.received().rfind("HTTP/1.1 400", 0), 0u) << name << ": " << client.received();
  }
  EXPECT_EQ(echo.handled.load(), 0);
}

TEST_F(ConnectionLayerTest, ChunkedBodiesAreDecodedAndTrailersNeverActAsHeaders) {
  start();
  RawClient good(port());
  good.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_NE(good.read_until("hello world", 2'000).find("HTTP/1.1 202"), std::string::npos) << good.received();

  // The key only in a trailer: refused from the headers, before the body.
  RawClient trailer(port());
  trailer.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: Authorization\r\n\r\n"
      "2\r\nhi\r\n0\r\nAuthorization: Bearer good\r\n\r\n");
  trailer.closed_within(3'000);
  EXPECT_EQ(trailer.received().rfind("HTTP/1.1 401", 0), 0u) << trailer.received();
  EXPECT_EQ(echo.handled.load(), 1);
}

TEST_F(ConnectionLayerTest, TooManyHeaderFieldsIs431) {
  start();
  std::string request = "POST /echo HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 70; ++i) request += "X-F" + std::to_string(i) + ": v\r\n";
  request += "Content-Length: 0\r\n\r\n";
  RawClient client(port());
  client.send(request);
  EXPECT_TRUE(client.closed_within(3'000));
  EXPECT_EQ(client.received().rfind("HTTP/1.1 431", 0), 0u) << client.received();
}

TEST_F(ConnectionLayerTest, DrainingClosesIdleConnectionsAndAnswersWithClose) {
  start();
  RawClient idle(port());
  idle.send(post("first"));
  ASSERT_NE(idle.read_until("first", 2'000).find("202"), std::string::npos);
  RawClient busy(port());
  const std::string last = post("last");
  busy.send(last.substr(0, 20));  // a request under way: it is finished, not cut
  ASSERT_TRUE(testing::eventually([&] { return server->open_connections() == 2; }));
  server->stop_accepting();
  EXPECT_TRUE(idle.closed_within(800));  // well before the 1 s idle timeout
  busy.send(last.substr(20));
  EXPECT_NE(busy.read_until("last", 2'000).find("Connection: close"), std::string::npos) << busy.received();
  EXPECT_TRUE(busy.closed_within(2'000));
}

TEST_F(ConnectionLayerTest, AStreamedRequestIsAnsweredInOrderWhileItsBodyIsStillBeingSent) {
  start();
  RawClient client(port());
  ASSERT_TRUE(
      client.send("POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "8\r\nfirst\nse\r\n"));
  // "first" is acknowledged late; "second" is not complete yet. Once it is, both reports come,
  // in order, before the body has ended.
  ASSERT_TRUE(client.send("5\r\ncond\n\r\n"));
  auto received = client.read_until("ack:second\n", 3'000);
  EXPECT_EQ(received.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << received;
  EXPECT_NE(received.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << received;
  const auto first = received.find("ack:first\n");
  ASSERT_NE(first, std::string::npos) << received;
  EXPECT_LT(first, received.find("ack:second\n")) << received;
  EXPECT_EQ(received.find("0\r\n\r\n"), std::string::npos) << "ended before the body did: " << received;
  // The end of the body (with a partial line) ends the answer; the connection stays usable.
  ASSERT_TRUE(client.send("4\r\ntail\r\n0\r\n\r\n"));
  received = client.read_until("0\r\n\r\n", 3'000);
  EXPECT_NE(received.find("partial:tail\n"), std::string::npos) << received;
  ASSERT_TRUE(client.send(post("again")));
  received = client.read_until("again", 3'000);
  EXPECT_NE(received.find("HTTP/1.1 202"), std::string::npos) << received;
}

TEST_F(ConnectionLayerTest, AStreamThatStopsReadingClosesTheConnectionAfterItsAnswer) {
  start();
  RawClient client(port());
  ASSERT_TRUE(
      client.send("POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nstop\n\r\n"));
  EXPECT_TRUE(client.closed_within(3'000));
  const auto& received = client.received();
  EXPECT_NE(received.find("stopped\n"), std::string::npos) << received;
  EXPECT_NE(received.find("0\r\n\r\n"), std::string::npos) << received;
}

TEST_F(ConnectionLayerTest, AContentLengthBodyToAStreamingRouteIsReadWhole) {
  start();
  RawClient client(port());
  ASSERT_TRUE(client.send("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  const auto received = client.read_until("whole:abc", 3'000);
  EXPECT_NE(received.find("whole:abc"), std::string::npos) << received;
}

TEST_F(ConnectionLayerTest, AClientThatLeavesMidStreamLeavesNoConnectionBehind) {
  start();
  {
    RawClient client(port());
    ASSERT_TRUE(
        client.send("POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "6\r\nfirst\n\r\n"));
    client.read_until("HTTP/1.1 200", 1'000);
  }                                                             // closed before the late report is in
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the report arrives for nobody
  RawClient next(port());
  ASSERT_TRUE(next.send(post("still-serving")));
  EXPECT_NE(next.read_until("still-serving", 3'000).find("HTTP/1.1 202"), std::string::npos);
}

}  // namespace
}  // namespace intake
