// UpdateCallbacks: how a source reports what it saw. Sources fetch and decode; the receiver
// (ConfigPlane) validates, merges and publishes. Modelled on Envoy's subscription callbacks:
// a source never decides whether an update is good.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/raw_tree.h"

namespace intake::config {

class UpdateCallbacks {
 public:
  virtual ~UpdateCallbacks() = default;

  // A complete snapshot of the watched subtree (never a delta). May repeat unchanged content.
  virtual void on_tree(RawTree tree) = 0;

  // The broker set a service-discovery source (e.g. Consul health) currently sees as healthy.
  virtual void on_brokers(std::string_view source, std::vector<std::string> brokers) = 0;

  // The source could not reach or read its registry; it keeps retrying with backoff.
  virtual void on_source_error(std::string_view source, std::string_view message) = 0;
};

}  // namespace intake::config
