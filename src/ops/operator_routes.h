// Where the operator endpoints are served. The health probes answer on every listener (a
// load balancer probes the public one, an orchestrator may probe either); /admin/* and
// /metrics answer on the admin listener when server.admin_listen sets one, so the public port
// answers them 404 like any unknown path, and beside the API otherwise.
#pragma once

#include "http/router.h"

namespace intake::ops {

struct OperatorHandlers {
  http::Handler& liveness;      // GET /healthz
  http::Handler& readiness;     // GET /readyz
  http::Handler& admin_config;  // GET /admin/config
  http::Handler& log_level;     // GET, PUT /admin/log-level
  http::Handler& metrics;       // GET /metrics
};

// Adds the operator routes to `api` (the public listener's router) and, when not null, to
// `admin` (the admin listener's). REQUIRES: the handlers outlive both routers.
void add_operator_routes(const OperatorHandlers& handlers, http::Router& api, http::Router* admin);

}  // namespace intake::ops
