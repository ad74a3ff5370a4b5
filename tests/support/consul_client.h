// Drives the real Consul agent from tests through its HTTP API (KV, transactions, services).
#pragma once

#include <cstdint>
#include <string>

#include "http_client.h"

namespace intake::testing {

class ConsulClient {
 public:
  explicit ConsulClient(const std::string& address);  // "http://127.0.0.1:18500"

  const std::string& address() const { return address_; }
  // Each throws std::runtime_error when Consul does not answer 200.
  void put(const std::string& key, const std::string& value);
  void remove(const std::string& key);
  void remove_prefix(const std::string& prefix);
  // PUT /v1/txn with a JSON array of operations; all or nothing.
  void transaction(const std::string& operations_json);
  void register_service(const std::string& id, const std::string& name, std::uint16_t port);
  void deregister_service(const std::string& id);
  HttpReply get(const std::string& target);

 private:
  HttpReply call(const std::string& method, const std::string& target, const std::string& body);
  std::string address_;
  std::string host_;
  std::uint16_t port_ = 0;
};

// base64 of `text`, for transaction payloads.
std::string to_base64(const std::string& text);

}  // namespace intake::testing
