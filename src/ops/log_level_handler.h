// GET /admin/log-level → {"level":"info"}; PUT /admin/log-level {"level":"debug"} changes the
// level at once, for every thread, with no restart (the YAML's logging.level is only the
// start value). Same admin token as /admin/config; 404 while the admin API is off.
#pragma once

#include <optional>

#include "crypto/digest.h"
#include "http/router.h"

namespace intake::ops {

class LogLevelHandler final : public http::Handler {
 public:
  explicit LogLevelHandler(std::optional<crypto::Sha256> token_sha256) : token_sha256_(token_sha256) {}

  http::Response handle(const http::Request& request, const http::RouteParams& params) override;

 private:
  std::optional<crypto::Sha256> token_sha256_;
};

}  // namespace intake::ops
