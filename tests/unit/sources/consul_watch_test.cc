// The Consul watchers' blocking-query loop against a fake agent: which index each request
// carries after answers the watcher could or could not decode.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <deque>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "sources/consul_client.h"
#include "sources/consul_health.h"
#include "sources/consul_kv.h"

namespace intake::sources {
namespace {

namespace asio = boost::asio;

HttpAnswer answer(std::uint64_t index, std::string body, int status = 200) {
  HttpAnswer out;
  out.status = status;
  out.body = std::move(body);
  out.headers.emplace_back("X-Consul-Index", std::to_string(index));
  return out;
}

asio::awaitable<Result<HttpAnswer>> ready(Result<HttpAnswer> answer) { co_return answer; }

// Answers each request at once with the next scripted answer and records its target. Once the
// script is used up it calls `on_script_end` and fails the request.
class FakeAgent {
 public:
  explicit FakeAgent(std::deque<HttpAnswer> script) : script_(std::move(script)) {}

  ConsulTransport transport() {
    return [this](const HttpCall& call, std::chrono::milliseconds) { return ready(next(call)); };
  }
  const std::vector<std::string>& targets() const { return targets_; }
  std::function<void()> on_script_end;

 private:
  Result<HttpAnswer> next(const HttpCall& call) {
    targets_.push_back(call.target);
    if (script_.empty()) {
      if (on_script_end) on_script_end();
      return Error{ErrorCode::kInternal, "end of the fake agent's script"};
    }
    HttpAnswer next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  std::deque<HttpAnswer> script_;
  std::vector<std::string> targets_;
};

class RecordingCallbacks final : public config::UpdateCallbacks {
 public:
  void on_tree(config::RawTree tree) override { trees.push_back(std::move(tree)); }
  void on_brokers(std::string_view, std::vector<std::string> brokers) override {
    broker_sets.push_back(std::move(brokers));
  }
  void on_source_error(std::string_view, std::string_view message) override { errors.emplace_back(message); }

  std::vector<config::RawTree> trees;
  std::vector<std::vector<std::string>> broker_sets;
  std::vector<std::string> errors;
};

// Options for the fake agent: prefix "intake/", the given wait and health service.
ConsulOptions options_waiting(std::chrono::milliseconds wait, std::string broker_service = {}) {
  ConsulOptions options;
  options.wait = wait;
  options.broker_service = std::move(broker_service);
  return options;
}

// Runs `source` against `agent` until the agent's script is used up.
void run_until_script_ends(Source& source, FakeAgent& agent, RecordingCallbacks& callbacks) {
  asio::io_context context;  // destroyed first: it ends the loop's coroutine frame
  agent.on_script_end = [&context] { context.stop(); };
  source.start(context, callbacks);
  context.run();
}

constexpr std::string_view kKvPath = "/v1/kv/intake/?recurse=true";
const std::string kKeyX = R"([{"Key":"intake/keys/a","Value":"eA=="}])";  // "x"
const std::string kKeyY = R"([{"Key":"intake/keys/a","Value":"eQ=="}])";  // "y"
const std::string kNotBase64 = R"([{"Key":"intake/keys/a","Value":"!!!"}])";

std::string kv_target(std::uint64_t index) {
  return std::string(kKvPath) + "&index=" + std::to_string(index) + "&wait=1000ms";
}

TEST(ConsulKvWatch, AnAnswerThatCannotBeDecodedIsReadAgainAtTheOldIndexNotBlockedPast) {
  FakeAgent agent({answer(5, kKeyX), answer(7, kNotBase64), answer(7, kKeyY)});
  RecordingCallbacks callbacks;
  ConsulKvSource source(options_waiting(std::chrono::milliseconds(1000)), agent.transport());
  run_until_script_ends(source, agent, callbacks);

  // The undecodable answer at 7 did not move the index: the retry asks with 5 again (Consul
  // answers at once with the same snapshot), and only the decoded answer moves it to 7.
  EXPECT_EQ(agent.targets(),
            (std::vector<std::string>{std::string(kKvPath), kv_target(5), kv_target(5), kv_target(7)}));
  ASSERT_EQ(callbacks.trees.size(), 2u);
  EXPECT_EQ(callbacks.trees[0].revision, "5");
  EXPECT_EQ(callbacks.trees[1].revision, "7");
  EXPECT_EQ(callbacks.trees[1].entries.at("keys/a"), "y");
  ASSERT_GE(callbacks.errors.size(), 1u);
  EXPECT_NE(callbacks.errors[0].find("not base64"), std::string::npos) << callbacks.errors[0];
}

TEST(ConsulKvWatch, AFirstAnswerThatCannotBeDecodedIsReadAgainWithoutAnIndex) {
  FakeAgent agent({answer(5, "{}"), answer(5, kKeyX)});
  RecordingCallbacks callbacks;
  ConsulKvSource source(options_waiting(std::chrono::milliseconds(1000)), agent.transport());
  run_until_script_ends(source, agent, callbacks);

  EXPECT_EQ(agent.targets(), (std::vector<std::string>{std::string(kKvPath), std::string(kKvPath), kv_target(5)}));
  ASSERT_EQ(callbacks.trees.size(), 1u);
  EXPECT_EQ(callbacks.trees[0].entries.at("keys/a"), "x");
}

TEST(ConsulHealthWatch, AnAnswerThatCannotBeDecodedIsReadAgainAtTheOldIndexNotBlockedPast) {
  const std::string one = R"([{"Node":{"Address":"10.0.0.1"},"Service":{"Address":"","Port":9092}}])";
  const std::string two = R"([{"Node":{"Address":"10.0.0.1"},"Service":{"Address":"","Port":9092}},
                              {"Node":{"Address":"10.0.0.2"},"Service":{"Address":"","Port":9092}}])";
  FakeAgent agent({answer(3, one), answer(4, "{not json"), answer(4, two)});
  RecordingCallbacks callbacks;
  ConsulHealthSource source(options_waiting(std::chrono::milliseconds(1000), "kafka"), agent.transport());
  run_until_script_ends(source, agent, callbacks);

  const std::string path = "/v1/health/service/kafka?passing=1";
  const auto at = [&](int index) { return path + "&index=" + std::to_string(index) + "&wait=1000ms"; };
  EXPECT_EQ(agent.targets(), (std::vector<std::string>{path, at(3), at(3), at(4)}));
  ASSERT_EQ(callbacks.broker_sets.size(), 2u);
  EXPECT_EQ(callbacks.broker_sets[0], (std::vector<std::string>{"10.0.0.1:9092"}));
  EXPECT_EQ(callbacks.broker_sets[1], (std::vector<std::string>{"10.0.0.1:9092", "10.0.0.2:9092"}));
}

TEST(BlockingQueryRules, AnUnusableAnswerKeepsTheIndexItWasAskedWith) {
  EXPECT_EQ(index_after_unusable_answer(5, 7), 5u);
  EXPECT_EQ(index_after_unusable_answer(5, 5), 5u);
  EXPECT_EQ(index_after_unusable_answer(0, 7), 0u);  // the first read: again without an index
  // Backwards (agent restarted with other data): blocking on 10 could wait a whole `wait`.
  EXPECT_EQ(index_after_unusable_answer(10, 3), 0u);
}

}  // namespace
}  // namespace intake::sources
