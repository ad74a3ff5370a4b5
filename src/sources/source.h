// Source: one registry watcher (Consul KV, Consul health, etcd, ZooKeeper, file). Each turns
// its registry's state into complete snapshots reported through config::UpdateCallbacks.
#pragma once

#include <cstdint>
#include <string>

#include "config/updates.h"

namespace boost::asio {
class io_context;
}

namespace intake::sources {

struct SourceStats {
  std::uint64_t requests = 0;   // calls made to the registry
  std::uint64_t errors = 0;     // failed calls (each followed by a backoff)
  std::uint64_t snapshots = 0;  // snapshots reported
  std::string revision;         // the registry revision last seen
};

class Source {
 public:
  virtual ~Source() = default;

  virtual std::string name() const = 0;

  // Starts watching. Asio-based sources run as coroutines on `control`, a single-threaded
  // context the caller owns: stopping it cancels their in-flight requests at once. Sources
  // with their own threads start them here and end them in stop().
  virtual void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) = 0;

  // Ends any threads of the source's own; returns within 1 s. Default: nothing to do.
  virtual void stop() {}

  // Safe from any thread.
  virtual SourceStats stats() const = 0;
};

}  // namespace intake::sources
