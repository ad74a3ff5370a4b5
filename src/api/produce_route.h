// What both native produce routes (api/single_record_handler.h, api/batch_handler.h) share as
// handlers: the gate, and the answer the headers alone decide before the body is read.
#pragma once

#include <optional>

#include "api/produce_gate.h"
#include "http/router.h"

namespace intake::api {

class ProduceRoute : public http::Handler {
 public:
  // `gate` must outlive the handler.
  explicit ProduceRoute(ProduceGate& gate) : gate_(gate) {}

  // The key, the topic (the route's one capture) and the key's rights, and the sync flag.
  std::optional<http::Response> check_headers(const http::Request& request, const http::RouteParams& params) final {
    if (auto admitted = gate_.check_headers(request, params[0]); !admitted) {
      return http::error_response(admitted.error());
    }
    return std::nullopt;
  }

 protected:
  ProduceGate& gate_;
};

}  // namespace intake::api
