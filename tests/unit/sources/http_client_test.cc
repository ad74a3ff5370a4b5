// The registry HTTP client's streaming call: JSON texts are handed over whole whatever the
// chunking, against a scripted server on loopback; and the splitter on its own.
#include "sources/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace intake::sources {
namespace {

using namespace std::chrono_literals;
using Status = JsonTextSplitter::Status;

std::vector<std::string> feed_all(JsonTextSplitter& splitter, const std::vector<std::string>& pieces,
                                  Status expected_last = Status::kMore) {
  std::vector<std::string> texts;
  Status last = Status::kMore;
  for (const auto& piece : pieces) {
    last = splitter.feed(piece, [&](std::string_view text) {
      texts.emplace_back(text);
      return true;
    });
  }
  EXPECT_EQ(last, expected_last);
  return texts;
}

TEST(JsonTextSplitter, HandsOverTextsSplitAnywhere) {
  const std::string stream = R"({"result":{"a":"} { [ \" \\"}}  )"
                             "\n"
                             R"([1,{"b":[]}]{"c":"\\"})"
                             "\n";
  const std::vector<std::string> expected = {R"({"result":{"a":"} { [ \" \\"}})", R"([1,{"b":[]}])", R"({"c":"\\"})"};
  JsonTextSplitter whole;
  EXPECT_EQ(feed_all(whole, {stream}), expected);
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    JsonTextSplitter halves;
    EXPECT_EQ(feed_all(halves, {stream.substr(0, cut), stream.substr(cut)}), expected) << "cut at " << cut;
  }
  JsonTextSplitter bytes;
  std::vector<std::string> pieces;
  for (char c : stream) pieces.emplace_back(1, c);
  EXPECT_EQ(feed_all(bytes, pieces), expected);
}

TEST(JsonTextSplitter, StopsWhenTheHandlerSaysSo) {
  JsonTextSplitter splitter;
  int seen = 0;
  EXPECT_EQ(splitter.feed("{}{}{}", [&](std::string_view) { return ++seen < 2; }), Status::kStopped);
  EXPECT_EQ(seen, 2);
}

TEST(JsonTextSplitter, RejectsWhatIsNoJsonTextAndOversizedTexts) {
  JsonTextSplitter splitter;
  feed_all(splitter, {"{} x"}, Status::kMalformed);
  JsonTextSplitter small(8);
  feed_all(small, {R"({"a":"0123456789")"}, Status::kMalformed);
}

// A one-shot HTTP server on loopback that reads one request and writes scripted pieces.
class ScriptedServer {
 public:
  ScriptedServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(address.sin_port);
  }
  ~ScriptedServer() {
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }

  // Answers the next request with `pieces`, pausing between them; then waits `linger` and closes.
  void serve(std::vector<std::string> pieces, std::chrono::milliseconds linger = 0ms) {
    thread_ = std::thread([this, pieces = std::move(pieces), linger] {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t got = ::read(connection, buffer, sizeof buffer);
        if (got <= 0) break;
        request.append(buffer, static_cast<std::size_t>(got));
      }
      request_ = request;
      for (const auto& piece : pieces) {
        if (::write(connection, piece.data(), piece.size()) < 0) break;
        std::this_thread::sleep_for(20ms);
      }
      std::this_thread::sleep_for(linger);
      ::close(connection);
    });
  }

  HttpEndpoint endpoint() const { return HttpEndpoint{"127.0.0.1", port_}; }
  // REQUIRES: the serving thread has ended (after the call returned).
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
};

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

struct StreamOutcome {
  std::optional<Result<HttpAnswer>> answer;
  std::vector<std::string> texts;
};

// (co_spawn's own handler would need a default-constructible Result.)
boost::asio::awaitable<void> store_answer(std::optional<Result<HttpAnswer>>& out, const HttpEndpoint& endpoint,
                                          const HttpCall& call, std::chrono::milliseconds idle_timeout,
                                          const JsonTextHandler& on_text) {
  Result<HttpAnswer> answer = co_await http_stream(endpoint, call, 5s, idle_timeout, on_text);
  out.emplace(std::move(answer));
}

StreamOutcome run_stream(const HttpEndpoint& endpoint, std::chrono::milliseconds idle_timeout, int stop_after = 0) {
  StreamOutcome outcome;
  HttpCall call;
  call.method = "POST";
  call.target = "/v3/watch";
  call.body = R"({"create_request":{}})";
  const JsonTextHandler on_text = [&](std::string_view text) {
    outcome.texts.emplace_back(text);
    return stop_after == 0 || static_cast<int>(outcome.texts.size()) < stop_after;
  };
  boost::asio::io_context context;
  boost::asio::co_spawn(context, store_answer(outcome.answer, endpoint, call, idle_timeout, on_text),
                        [](std::exception_ptr error) {
                          if (error) std::rethrow_exception(error);
                        });
  context.run();
  return outcome;
}

TEST(HttpStream, HandsOverEachJsonTextOfAChunkedBodyWhateverTheChunking) {
  ScriptedServer server;
  server.serve({"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                chunk(R"({"result":{"created":true}})"
                      "\n"
                      R"({"result":{"a":"x})"),
                chunk(R"(}"}})"
                      "\n{"),
                chunk(R"("result":{}})"
                      "\n"),
                "0\r\n\r\n"});
  const auto outcome = run_stream(server.endpoint(), 2s);
  ASSERT_TRUE(outcome.answer);
  ASSERT_TRUE(outcome.answer->ok()) << outcome.answer->error().message;
  EXPECT_EQ(outcome.answer->value().status, 200);
  EXPECT_EQ(outcome.texts, (std::vector<std::string>{R"({"result":{"created":true}})", R"({"result":{"a":"x}}"}})",
                                                     R"({"result":{}})"}));
  EXPECT_NE(server.request().find("POST /v3/watch HTTP/1.1"), std::string::npos);
}

TEST(HttpStream, EndsWhenTheHandlerHasSeenEnoughOfAnEndlessStream) {
  ScriptedServer server;
  server.serve({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk("{}\n{}\n"), chunk("{}\n")}, 1500ms);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run_stream(server.endpoint(), 0ms, 2);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1200ms);
  ASSERT_TRUE(outcome.answer && outcome.answer->ok());
  EXPECT_EQ(outcome.texts.size(), 2u);
}

TEST(HttpStream, AnErrorStatusIsReturnedWithItsBodyAndNothingHandedOver) {
  ScriptedServer server;
  const std::string body = R"({"error":"etcdserver: invalid auth token","code":16})";
  server.serve({"HTTP/1.1 401 Unauthorized\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body});
  const auto outcome = run_stream(server.endpoint(), 2s);
  ASSERT_TRUE(outcome.answer);
  ASSERT_TRUE(outcome.answer->ok()) << outcome.answer->error().message;
  EXPECT_EQ(outcome.answer->value().status, 401);
  EXPECT_EQ(outcome.answer->value().body, body);
  EXPECT_TRUE(outcome.texts.empty());
}

TEST(HttpStream, ASilentStreamTimesOutAfterTheIdleTimeout) {
  ScriptedServer server;
  server.serve({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk("{}")}, 1s);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run_stream(server.endpoint(), 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms);
  ASSERT_TRUE(outcome.answer);
  EXPECT_FALSE(outcome.answer->ok());
  EXPECT_EQ(outcome.texts.size(), 1u);
}

TEST(HttpStream, ABodyThatIsNoJsonStreamIsAnError) {
  ScriptedServer server;
  server.serve({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"});
  const auto outcome = run_stream(server.endpoint(), 2s);
  ASSERT_TRUE(outcome.answer);
  EXPECT_FALSE(outcome.answer->ok());
}

}  // namespace
}  // namespace intake::sources
