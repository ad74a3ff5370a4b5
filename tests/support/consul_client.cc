#include "consul_client.h"

#include <stdexcept>

#include "encoding/base64.h"

namespace intake::testing {

ConsulClient::ConsulClient(const std::string& address) : address_(address) {
  std::tie(host_, port_) = parse_host_port(address);
}

HttpReply ConsulClient::call(const std::string& method, const std::string& target, const std::string& body) {
  HttpReply reply = http_request(host_, port_, method, target, body);
  if (reply.status != 200) {
    throw std::runtime_error("consul " + method + " " + target + " answered " + std::to_string(reply.status) + ": " +
                             reply.body);
  }
  return reply;
}

void ConsulClient::put(const std::string& key, const std::string& value) { call("PUT", "/v1/kv/" + key, value); }
void ConsulClient::remove(const std::string& key) { call("DELETE", "/v1/kv/" + key, ""); }
void ConsulClient::remove_prefix(const std::string& prefix) {
  call("DELETE", "/v1/kv/" + prefix + "?recurse=true", "");
}
void ConsulClient::transaction(const std::string& operations_json) { call("PUT", "/v1/txn", operations_json); }

void ConsulClient::register_service(const std::string& id, const std::string& name, std::uint16_t port) {
  // A TCP check makes "passing" mean the broker's port really accepts connections.
  const std::string port_text = std::to_string(port);
  call("PUT", "/v1/agent/service/register",
       R"({"ID":")" + id + R"(","Name":")" + name + R"(","Address":"127.0.0.1","Port":)" + port_text +
           R"(,"Check":{"TCP":"127.0.0.1:)" + port_text + R"(","Interval":"1s","Timeout":"1s","Status":"passing"}})");
}

void ConsulClient::deregister_service(const std::string& id) { call("PUT", "/v1/agent/service/deregister/" + id, ""); }

HttpReply ConsulClient::get(const std::string& target) { return http_request(host_, port_, "GET", target); }

std::string to_base64(const std::string& text) { return encoding::base64_encode(text); }

}  // namespace intake::testing
