// ConsulHealthSource: the Kafka broker set from Consul's health API — every instance of one
// service whose checks pass — watched with a blocking query. Address from Service.Address,
// or Node.Address when the service did not register one; port from Service.Port. An instance
// that gives no usable broker (no port, an address that is no host name or IP address) is
// left out and logged; the others still count. Addresses pass the same rule as registry
// `brokers/` keys (names/broker_address.h), IPv6 literals come out as [addr]:port.
#pragma once

#include <string>
#include <vector>

#include "sources/consul_client.h"
#include "sources/consul_decode.h"
#include "sources/consul_options.h"
#include "sources/source.h"

namespace intake::sources {

class ConsulHealthSource final : public Source {
 public:
  // Watches the service options.broker_service at options.address; `transport` empty = HTTP to
  // that address (tests put a fake agent here). Throws std::invalid_argument for a bad address
  // (start-up only).
  explicit ConsulHealthSource(ConsulOptions options, ConsulTransport transport = {});

  std::string name() const override { return "consul_health"; }
  void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) override;
  SourceStats stats() const override { return stats_.snapshot(); }

 private:
  ConsulOptions options_;
  ConsulEndpoint endpoint_;
  WatchStats stats_;
};

}  // namespace intake::sources
