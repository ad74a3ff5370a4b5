// GET /admin/config: what configuration is in force and where it came from — version, content
// hash, source, revision, apply time, the last rejected update and its error, each source's
// counters, the live broker set — with every secret (and secret digest) left out.
// Requires `Authorization: Bearer <admin token>`; without admin.token_sha256 in the YAML the
// endpoint answers 404, so an unconfigured gateway exposes nothing.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/store.h"
#include "crypto/digest.h"
#include "http/router.h"
#include "sources/source.h"

namespace intake::ops {

class AdminConfigHandler final : public http::Handler {
 public:
  using BrokerList = std::function<std::vector<std::string>()>;
  AdminConfigHandler(std::optional<crypto::Sha256> token_sha256, const config::ConfigStore& store,
                     std::vector<const sources::Source*> sources, BrokerList producer_brokers)
      : token_sha256_(token_sha256),
        store_(store),
        sources_(std::move(sources)),
        producer_brokers_(std::move(producer_brokers)) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  std::optional<crypto::Sha256> token_sha256_;
  const config::ConfigStore& store_;
  std::vector<const sources::Source*> sources_;
  BrokerList producer_brokers_;
};

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T10:00:00.123Z.
std::string format_time(std::chrono::system_clock::time_point at);

}  // namespace intake::ops
