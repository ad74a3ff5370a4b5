// ConsulRegistration against a fake agent: what the register call carries, the token's
// handling, registering again after the agent lost the service, backing off from a failing
// agent, and deregistering.
#include "sources/consul_registration.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace intake::sources {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr const char* kToken = "s3cr3t-registration-token";

struct RecordedCall {
  std::string method;
  std::string target;
  std::string body;
  std::string token;  // the X-Consul-Token header, "" when absent
};

asio::awaitable<Result<HttpAnswer>> ready(Result<HttpAnswer> answer) { co_return answer; }

// A fake local agent: records every call and answers it through `answer` (by default 200 to
// everything). Safe to read from the test thread while the control thread calls it.
class FakeAgent {
 public:
  using Answerer = std::function<Result<HttpAnswer>(const RecordedCall& call, std::size_t index)>;

  explicit FakeAgent(Answerer answer = {}) : answer_(std::move(answer)) {}

  ConsulTransport transport() {
    return [this](const HttpCall& call, std::chrono::milliseconds) { return ready(next(call)); };
  }

  std::vector<RecordedCall> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  std::size_t count(const std::string& method, const std::string& target_prefix) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& call : calls_) n += call.method == method && call.target.rfind(target_prefix, 0) == 0;
    return n;
  }

 private:
  Result<HttpAnswer> next(const HttpCall& call) {
    RecordedCall recorded{call.method, call.target, call.body, {}};
    for (const auto& [name, value] : call.headers) {
      if (name == "X-Consul-Token") recorded.token = value;
    }
    std::size_t index = 0;
    {
      std::lock_guard lock(mutex_);
      index = calls_.size();
      calls_.push_back(recorded);
    }
    if (answer_) return answer_(recorded, index);
    HttpAnswer ok;
    ok.status = 200;
    ok.body = "{}";
    return ok;
  }

  Answerer answer_;
  mutable std::mutex mutex_;
  std::vector<RecordedCall> calls_;
};

HttpAnswer status(int code, std::string body = "") {
  HttpAnswer out;
  out.status = code;
  out.body = std::move(body);
  return out;
}

// The control io_context on a thread of its own, as in the gateway.
class ControlThread {
 public:
  ControlThread() : guard_(asio::make_work_guard(context_)), thread_([this] { context_.run(); }) {}
  ~ControlThread() {
    guard_.reset();
    context_.stop();
    thread_.join();
  }
  asio::io_context& context() { return context_; }

 private:
  asio::io_context context_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Every log line written while it lives, at every level.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds deadline = 10s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return predicate();
}

ConsulRegistrationOptions options() {
  ConsulRegistrationOptions out;
  out.enabled = true;
  out.agent = "http://127.0.0.1:8500";
  out.service_name = "intake";
  out.service_id = "intake-test-1";
  out.tags = {"http", "kafka"};
  out.meta = {{"zone", "eu-1"}, {"version", "7"}};
  out.address = "10.1.2.3";
  out.port = 9090;
  out.check_interval = 100ms;
  out.check_timeout = 2'000ms;
  out.deregister_critical_after = 600s;
  return out;
}

std::string string_of(simdjson::dom::element element) { return std::string(std::string_view(element)); }

TEST(ConsulRegistration, RegisterBodyCarriesTheServiceAndAReadinessCheck) {
  ConsulRegistration registration(options(), FakeAgent().transport());
  simdjson::dom::parser parser;
  const auto body = registration.registration_body();
  simdjson::dom::element doc = parser.parse(body);
  EXPECT_EQ(string_of(doc["Name"]), "intake");
  EXPECT_EQ(string_of(doc["ID"]), "intake-test-1");
  simdjson::dom::array tags = doc["Tags"];
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(string_of(tags.at(0)), "http");
  EXPECT_EQ(string_of(tags.at(1)), "kafka");
  EXPECT_EQ(string_of(doc["Meta"]["zone"]), "eu-1");
  EXPECT_EQ(string_of(doc["Meta"]["version"]), "7");
  EXPECT_EQ(string_of(doc["Address"]), "10.1.2.3");
  EXPECT_EQ(std::uint64_t(doc["Port"]), 9090u);
  simdjson::dom::element check = doc["Check"];
  EXPECT_EQ(string_of(check["HTTP"]), "http://10.1.2.3:9090/readyz");
  EXPECT_EQ(string_of(check["Method"]), "GET");
  EXPECT_EQ(string_of(check["Interval"]), "100ms");
  EXPECT_EQ(string_of(check["Timeout"]), "2000ms");
  EXPECT_EQ(string_of(check["DeregisterCriticalServiceAfter"]), "600s");
}

TEST(ConsulRegistration, ZeroDeregisterCriticalAfterLeavesTheFieldOut) {
  auto settings = options();
  settings.deregister_critical_after = 0s;
  ConsulRegistration registration(settings, FakeAgent().transport());
  simdjson::dom::parser parser;
  const auto body = registration.registration_body();
  simdjson::dom::element doc = parser.parse(body);
  EXPECT_EQ(doc["Check"]["DeregisterCriticalServiceAfter"].error(), simdjson::NO_SUCH_FIELD) << body;
}

TEST(ConsulRegistration, IpV6AddressIsBracketedInTheCheckUrlOnly) {
  auto settings = options();
  settings.address = "::1";
  ConsulRegistration registration(settings, FakeAgent().transport());
  EXPECT_EQ(registration.check_url(), "http://[::1]:9090/readyz");
  simdjson::dom::parser parser;
  const auto body = registration.registration_body();
  simdjson::dom::element doc = parser.parse(body);
  EXPECT_EQ(string_of(doc["Address"]), "::1");
}

TEST(ConsulRegistration, StartRegistersTheListenerPortUnderAnIdNamedAfterHostAndPort) {
  auto settings = options();
  settings.port = 0;
  settings.service_id.clear();
  FakeAgent agent;
  ConsulRegistration registration(settings, agent.transport());
  ControlThread control;
  registration.start(control.context(), 4711);
  ASSERT_TRUE(eventually([&] { return registration.registered(); }));
  const auto& id = registration.service_id();
  EXPECT_EQ(id.rfind("intake-", 0), 0u) << id;
  EXPECT_EQ(id.substr(id.size() - 5), "-4711") << id;
  const auto calls = agent.calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0].method, "PUT");
  EXPECT_EQ(calls[0].target, "/v1/agent/service/register");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(calls[0].body);
  EXPECT_EQ(std::uint64_t(doc["Port"]), 4711u);
  EXPECT_EQ(string_of(doc["ID"]), id);
  EXPECT_EQ(string_of(doc["Check"]["HTTP"]), "http://10.1.2.3:4711/readyz");
  EXPECT_TRUE(registration.deregister(2s));
}

TEST(ConsulRegistration, TokenIsSentOnEveryCallAndNeverLogged) {
  CapturedLog log;
  auto settings = options();
  settings.token = kToken;
  // Register fails twice (once with a transport error, once with a 500), then the agent
  // answers; a GET is answered 404 once: every path that logs is taken.
  FakeAgent agent([](const RecordedCall& call, std::size_t index) -> Result<HttpAnswer> {
    if (index == 0) return Error{ErrorCode::kInternal, "connection refused"};
    if (index == 1) return status(500, "rpc error: no leader");
    if (index == 3 && call.method == "GET") return status(404, "unknown service");
    return status(200, "{}");
  });
  ConsulRegistration registration(settings, agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  ASSERT_TRUE(
      eventually([&] { return registration.registrations() >= 2 && agent.count("GET", "/v1/agent/service/") >= 2; }));
  EXPECT_TRUE(registration.deregister(2s));
  const auto calls = agent.calls();
  for (const auto& call : calls) EXPECT_EQ(call.token, kToken) << call.method << " " << call.target;
  const std::string text = log.text();
  EXPECT_NE(text.find("registering service intake-test-1 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("deregistered service intake-test-1"), std::string::npos) << text;
  EXPECT_EQ(text.find(kToken), std::string::npos) << text;
  EXPECT_EQ(registration.registration_body().find(kToken), std::string::npos);
}

TEST(ConsulRegistration, NoTokenMeansNoTokenHeader) {
  FakeAgent agent;
  ConsulRegistration registration(options(), agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  ASSERT_TRUE(eventually([&] { return registration.registered(); }));
  EXPECT_TRUE(registration.deregister(2s));
  for (const auto& call : agent.calls()) EXPECT_EQ(call.token, "") << call.target;
}

TEST(ConsulRegistration, AgentThatLostTheServiceGetsItRegisteredAgain) {
  // register, GET ok, GET 404 (the agent restarted), then everything is fine.
  FakeAgent agent([](const RecordedCall& call, std::size_t index) -> Result<HttpAnswer> {
    if (index == 2 && call.method == "GET") return status(404, "unknown service ID");
    return status(200, "{}");
  });
  ConsulRegistration registration(options(), agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  ASSERT_TRUE(eventually([&] { return registration.registrations() >= 2; }));
  EXPECT_TRUE(eventually([&] { return registration.registered(); }));
  EXPECT_TRUE(registration.deregister(2s));
  const auto calls = agent.calls();
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ(calls[0].target, "/v1/agent/service/register");
  EXPECT_EQ(calls[1].method, "GET");
  EXPECT_EQ(calls[1].target, "/v1/agent/service/intake-test-1");
  EXPECT_EQ(calls[2].method, "GET");
  // Right after the 404: registered again, not asked again.
  EXPECT_EQ(calls[3].method, "PUT");
  EXPECT_EQ(calls[3].target, "/v1/agent/service/register");
  EXPECT_EQ(calls[3].body, calls[0].body);
}

TEST(ConsulRegistration, UnreachableAgentIsAskedAgainWithARegisterOnceItAnswers) {
  // register ok, GET fails (agent down), then it answers: the next call registers.
  FakeAgent agent([](const RecordedCall&, std::size_t index) -> Result<HttpAnswer> {
    if (index == 1) return Error{ErrorCode::kInternal, "connection refused"};
    return status(200, "{}");
  });
  ConsulRegistration registration(options(), agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  ASSERT_TRUE(eventually([&] { return registration.registrations() >= 2; }));
  EXPECT_TRUE(registration.deregister(2s));
  const auto calls = agent.calls();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls[1].method, "GET");
  EXPECT_EQ(calls[2].method, "PUT");
  EXPECT_EQ(calls[2].target, "/v1/agent/service/register");
}

TEST(ConsulRegistration, FailingAgentIsRetriedWithBackoffNotInALoop) {
  CapturedLog log;
  FakeAgent agent([](const RecordedCall&, std::size_t) -> Result<HttpAnswer> { return status(500, "no leader"); });
  ConsulRegistration registration(options(), agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  // The check interval is 100 ms: without backoff 2 s would see about 20 calls. Backoff
  // (at least 125, 250, 500, 1000 ms) allows 5 at most.
  std::this_thread::sleep_for(2s);
  const auto registers = agent.count("PUT", "/v1/agent/service/register");
  EXPECT_GE(registers, 2u);
  EXPECT_LE(registers, 5u);
  EXPECT_FALSE(registration.registered());
  EXPECT_EQ(registration.registrations(), 0u);
  // Deregistering still asks the agent, which refuses here: reported as not confirmed.
  EXPECT_FALSE(registration.deregister(2s));
  // One warning for the streak, not one per attempt.
  const std::string text = log.text();
  std::size_t warnings = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    warnings +=
        line.find("[warning]") != std::string::npos && line.find("consul: registering service") != std::string::npos;
  }
  EXPECT_EQ(warnings, 1u) << text;
}

TEST(ConsulRegistration, DeregisterSendsTheDeregisterCallAndStopsTheLoop) {
  FakeAgent agent;
  ConsulRegistration registration(options(), agent.transport());
  ControlThread control;
  registration.start(control.context(), 0);
  ASSERT_TRUE(eventually([&] { return agent.count("GET", "/v1/agent/service/") >= 1; }));
  EXPECT_TRUE(registration.deregister(2s));
  EXPECT_FALSE(registration.registered());
  auto calls = agent.calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().method, "PUT");
  EXPECT_EQ(calls.back().target, "/v1/agent/service/deregister/intake-test-1");
  // The loop has ended: no call after the deregister.
  const auto count = calls.size();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(agent.calls().size(), count);
}

TEST(ConsulRegistration, DeregisterBeforeStartIsANoOp) {
  FakeAgent agent;
  ConsulRegistration registration(options(), agent.transport());
  EXPECT_FALSE(registration.deregister(100ms));
  EXPECT_TRUE(agent.calls().empty());
  EXPECT_FALSE(registration.registered());
}

TEST(ConsulRegistration, BadAgentAddressIsRefusedAtConstruction) {
  auto settings = options();
  settings.agent = "http://";
  EXPECT_THROW(ConsulRegistration(settings, FakeAgent().transport()), std::invalid_argument);
}

}  // namespace
}  // namespace intake::sources
