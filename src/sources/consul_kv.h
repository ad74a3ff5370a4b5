// ConsulKvSource: watches one KV prefix (default "intake/") with a single recursive blocking
// query — one long poll for the whole tree, not one per key — and reports the complete
// subtree on every change. Deletions, an empty prefix (404) and Consul restarts are all
// just "the tree as it is now".
#pragma once

#include <string>

#include "sources/consul_client.h"
#include "sources/consul_decode.h"
#include "sources/consul_options.h"
#include "sources/source.h"

namespace intake::sources {

class ConsulKvSource final : public Source {
 public:
  // Watches options.prefix at options.address; `transport` empty = HTTP to that address (tests
  // put a fake agent here). Throws std::invalid_argument for a bad address (start-up only).
  explicit ConsulKvSource(ConsulOptions options, ConsulTransport transport = {});

  std::string name() const override { return "consul_kv"; }
  void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) override;
  SourceStats stats() const override { return stats_.snapshot(); }

 private:
  ConsulOptions options_;
  ConsulEndpoint endpoint_;
  WatchStats stats_;
};

}  // namespace intake::sources
