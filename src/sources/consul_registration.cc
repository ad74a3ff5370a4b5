#include "sources/consul_registration.h"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <boost/asio.hpp>

#include <array>

#include "json/writer.h"

namespace intake::sources {

namespace asio = boost::asio;

namespace {

// Every agent call is short: the agent is local, and shutdown waits for one in flight.
constexpr std::chrono::milliseconds kAgentCallTimeout{1'000};

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

std::string go_duration(std::chrono::milliseconds duration) { return std::to_string(duration.count()) + "ms"; }

// Why a call failed, for the log: the status and the start of the agent's body (which never
// echoes the token), or the transport's error.
std::string failure_text(const Result<HttpAnswer>& answer) {
  if (!answer) return answer.error().message;
  return "HTTP " + std::to_string(answer->status) + ": " + answer->body.substr(0, 200);
}

}  // namespace

ConsulRegistration::ConsulRegistration(ConsulRegistrationOptions options, ConsulTransport transport)
    : options_(std::move(options)) {
  endpoint_.http = parse_http_address(options_.agent, "consul_registration.agent");
  endpoint_.token = options_.token;
  endpoint_.transport = std::move(transport);
  if (!endpoint_.transport) {
    endpoint_.transport = [http = endpoint_.http](const HttpCall& call, std::chrono::milliseconds limit) {
      return http_call(http, call, limit);
    };
  }
  service_id_ = options_.service_id;
}

std::string ConsulRegistration::check_url() const {
  const bool ipv6 = options_.address.find(':') != std::string::npos && options_.address.front() != '[';
  const std::string host = ipv6 ? "[" + options_.address + "]" : options_.address;
  return "http://" + host + ":" + std::to_string(options_.port) + "/readyz";
}

std::string ConsulRegistration::registration_body() const {
  std::string body;
  json::Writer json(body);
  json.begin_object().field("ID", service_id_).field("Name", options_.service_name);
  json.begin_array("Tags");
  for (const auto& tag : options_.tags) json.value(tag);
  json.end_array();
  std::string address = options_.address;
  if (address.size() > 2 && address.front() == '[' && address.back() == ']')
    address = address.substr(1, address.size() - 2);
  json.field("Address", address).field("Port", static_cast<unsigned>(options_.port));
  json.begin_object("Meta");
  for (const auto& [name, value] : options_.meta) json.field(name, value);
  json.end_object();
  json.begin_object("Check")
      .field("Name", options_.service_name + " readiness (/readyz)")
      .field("HTTP", check_url())
      .field("Method", "GET")
      .field("Interval", go_duration(options_.check_interval))
      .field("Timeout", go_duration(options_.check_timeout));
  if (options_.deregister_critical_after.count() > 0) {
    json.field("DeregisterCriticalServiceAfter", std::to_string(options_.deregister_critical_after.count()) + "s");
  }
  json.end_object().end_object();
  return body;
}

void ConsulRegistration::start(asio::io_context& control, std::uint16_t listener_port) {
  if (control_ != nullptr) return;
  control_ = &control;
  if (options_.port == 0) options_.port = listener_port;
  if (service_id_.empty()) {
    service_id_ = options_.service_name + "-" + host_name() + "-" + std::to_string(options_.port);
  }
  asio::co_spawn(control, run(), asio::detached);
}

bool ConsulRegistration::deregister(std::chrono::milliseconds timeout) {
  if (control_ == nullptr) return false;
  auto confirmed = deregistered_.get_future();
  asio::post(*control_, [this] {
    stopping_ = true;
    if (pause_ != nullptr) pause_->cancel();
  });
  if (confirmed.wait_for(timeout) != std::future_status::ready) {
    spdlog::warn("consul: service {} not deregistered within {} ms; the agent's check will fail it", service_id_,
                 timeout.count());
    return false;
  }
  return confirmed.get();
}

HttpCall ConsulRegistration::agent_call(std::string method, std::string target, std::string body) const {
  HttpCall call;
  call.method = std::move(method);
  call.target = std::move(target);
  call.body = std::move(body);
  if (!endpoint_.token.empty()) call.headers.emplace_back("X-Consul-Token", endpoint_.token);
  return call;
}

// No co_await here has a temporary with a destructor in its operand (g++ 12 coroutine bug):
// each call is built first.
asio::awaitable<void> ConsulRegistration::run() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  pause_ = &pause;
  boost::system::error_code ignored;
  Backoff backoff;
  bool need_register = true;
  bool failing = false;  // within a streak of failures: only its first is logged at warn
  const std::string body = registration_body();
  while (!stopping_) {
    bool ok = false;
    std::string failure;
    if (need_register) {
      const HttpCall call = agent_call("PUT", "/v1/agent/service/register", body);
      Result<HttpAnswer> answer = co_await endpoint_.transport(call, kAgentCallTimeout);
      if (answer && answer->status == 200) {
        ok = true;
        need_register = false;
        const auto count = registrations_.fetch_add(1, std::memory_order_relaxed) + 1;
        registered_.store(true, std::memory_order_relaxed);
        spdlog::info("consul: {} service {} (id {}) at {}:{} with agent {}:{}, check {} every {} ms",
                     count == 1 ? "registered" : "registered again", options_.service_name, service_id_,
                     options_.address, options_.port, endpoint_.http.host, endpoint_.http.port, check_url(),
                     options_.check_interval.count());
      } else {
        failure = "registering service " + service_id_ + " failed: " + failure_text(answer);
      }
    } else {
      const HttpCall call = agent_call("GET", "/v1/agent/service/" + service_id_, "");
      Result<HttpAnswer> answer = co_await endpoint_.transport(call, kAgentCallTimeout);
      if (answer && answer->status == 200) {
        ok = true;
      } else if (answer && answer->status == 404) {
        // The agent lost us (restarted, or reaped the service after its check stayed critical).
        spdlog::info("consul: the agent no longer has service {}; registering it again", service_id_);
        registered_.store(false, std::memory_order_relaxed);
        need_register = true;
        continue;  // at once: the next call is a register, so this cannot spin
      } else {
        failure = "asking the agent for service " + service_id_ + " failed: " + failure_text(answer);
        // Unreachable: once it answers again, register (a restarted agent may not have us).
        need_register = true;
      }
    }
    if (stopping_) break;
    std::chrono::milliseconds delay = options_.check_interval;
    if (ok) {
      if (failing) spdlog::info("consul: the agent at {}:{} answers again", endpoint_.http.host, endpoint_.http.port);
      failing = false;
      backoff.reset();
    } else {
      registered_.store(false, std::memory_order_relaxed);
      delay = backoff.next();
      if (!failing) {
        spdlog::warn("consul: {} (retrying in {} ms)", failure, delay.count());
      } else {
        spdlog::debug("consul: {} (retrying in {} ms)", failure, delay.count());
      }
      failing = true;
    }
    pause.expires_after(delay);
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  pause_ = nullptr;
  const HttpCall call = agent_call("PUT", "/v1/agent/service/deregister/" + service_id_, "");
  Result<HttpAnswer> answer = co_await endpoint_.transport(call, kAgentCallTimeout);
  registered_.store(false, std::memory_order_relaxed);
  const bool confirmed = answer && answer->status == 200;
  if (confirmed) {
    spdlog::info("consul: deregistered service {}", service_id_);
  } else {
    spdlog::warn("consul: deregistering service {} failed: {}", service_id_, failure_text(answer));
  }
  deregistered_.set_value(confirmed);
}

}  // namespace intake::sources
