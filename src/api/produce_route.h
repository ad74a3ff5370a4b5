// What every produce route shares as a handler: the gate, and the answer the headers alone
// decide before the body is read, told in the route's own error form.
#pragma once

#include <optional>
#include <string_view>

#include "api/produce_gate.h"
#include "http/router.h"

namespace intake::api {

class ProduceRoute : public http::Handler {
 public:
  // `gate` must outlive the handler.
  explicit ProduceRoute(ProduceGate& gate) : gate_(gate) {}

  // The key, the topic and the key's rights to it, and the sync flag.
  std::optional<http::Response> check_headers(const http::Request& request, const http::RouteParams& params) final {
    if (auto admitted = gate_.check_headers(request, topic_of(params)); !admitted) {
      return render_error(admitted.error());
    }
    return std::nullopt;
  }

 protected:
  // The topic among the route's captures: the first, unless the route says otherwise.
  virtual std::string_view topic_of(const http::RouteParams& params) const { return params[0]; }

  // How the route tells an error: Intake's JSON; the Confluent routes answer in theirs.
  virtual http::Response render_error(const Error& error) const { return http::error_response(error); }

  ProduceGate& gate_;
};

}  // namespace intake::api
