#include "ops/operator_routes.h"

namespace intake::ops {

void add_operator_routes(const OperatorHandlers& handlers, http::Router& api, http::Router* admin) {
  for (http::Router* router : {&api, admin}) {
    if (router == nullptr) continue;
    router->add(http::Method::kGet, "/healthz", handlers.liveness);
    router->add(http::Method::kGet, "/readyz", handlers.readiness);
  }
  http::Router& privileged = admin != nullptr ? *admin : api;
  privileged.add(http::Method::kGet, "/admin/config", handlers.admin_config);
  privileged.add(http::Method::kGet, "/admin/log-level", handlers.log_level);
  privileged.add(http::Method::kPut, "/admin/log-level", handlers.log_level);
  privileged.add(http::Method::kGet, "/metrics", handlers.metrics);
}

}  // namespace intake::ops
