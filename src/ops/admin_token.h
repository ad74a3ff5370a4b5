// The admin token check shared by every endpoint that needs it (/admin/config, and /metrics
// with admin.metrics_require_token): one place for the header it reads, the constant-time
// comparison and the answer a missing or wrong token gets.
#pragma once

#include <optional>

#include "crypto/digest.h"
#include "http/message.h"

namespace intake::ops {

// Returns the 401 unauthorized_admin answer unless `request` carries
// `Authorization: Bearer <token>` whose SHA-256 is `token_sha256`; nothing when it does.
std::optional<http::Response> refuse_without_admin_token(const http::Request& request,
                                                         const crypto::Sha256& token_sha256);

}  // namespace intake::ops
