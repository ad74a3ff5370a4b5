#include "ops/admin_token.h"

#include "policy/access.h"

namespace intake::ops {

std::optional<http::Response> refuse_without_admin_token(const http::Request& request,
                                                         const crypto::Sha256& token_sha256) {
  auto token = policy::presented_key(request.header("Authorization"), {});
  if (token && crypto::constant_time_equal(crypto::sha256(token.value()), token_sha256)) return std::nullopt;
  return http::error_response(
      {ErrorCode::kUnauthorizedAdmin, "send the admin token as 'Authorization: Bearer <admin token>'"});
}

}  // namespace intake::ops
