// Router: maps (method, path) to a handler. Patterns are literal segments and `{name}`
// captures, e.g. `/v1/topics/{topic}`. An unknown path gives not_found; a known path with
// another method gives method_not_allowed naming the allowed ones.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/body_stream.h"
#include "http/message.h"

namespace intake::http {

inline constexpr std::size_t kMaxRouteParams = 4;

// Captured `{name}` segments, in pattern order, and which route matched.
struct RouteParams {
  std::array<std::string_view, kMaxRouteParams> values{};
  std::size_t count = 0;
  // The pattern of the route that matched, exactly as given to Router::add: a handler that
  // serves several routes tells them apart by this, never by looking at the path again.
  std::string_view pattern;
  std::string_view operator[](std::size_t i) const { return values[i]; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called once the request's headers are in, before `100 Continue` is sent and before a byte
  // of the body is read (`request.body` is empty): a refusal the headers alone decide —
  // authentication, rights — costs the client's upload nothing and the gateway no memory.
  // Returning nothing lets the body be read and handle() run.
  virtual std::optional<Response> check_headers(const Request& /*request*/, const RouteParams& /*params*/) {
    return std::nullopt;
  }
  // Called on the connection's thread with the whole body; must not block.
  virtual Response handle(const Request& request, const RouteParams& params) = 0;
  // Called after check_headers for an HTTP/1.1 request with a chunked body: a stream means the
  // request is served streaming (http/body_stream.h) and handle() is not called; nullptr (the
  // default) means the body is read whole first. `output` is where the answer goes.
  virtual std::unique_ptr<BodyStream> open_stream(const Request& /*request*/, const RouteParams& /*params*/,
                                                  const std::shared_ptr<StreamOutput>& /*output*/) {
    return nullptr;
  }
};

// Which handler serves a request, or the answer when none does.
struct Routed {
  Handler* handler = nullptr;
  RouteParams params;
  Response refusal;  // not_found / method_not_allowed when handler is null
};

class Router {
 public:
  // REQUIRES: called before the server starts (routes are read without locks afterwards).
  // `handler` must outlive the router. Throws std::invalid_argument for a bad pattern.
  void add(Method method, std::string_view pattern, Handler& handler);

  // Finds the handler for the request's method and path (HEAD is served by the GET route).
  Routed route(const Request& request) const;

  // route(), check_headers() and handle() in one call, for a request whose body is in hand.
  Response dispatch(const Request& request) const;

  // Every route's pattern, in the order added (a pattern added for two methods appears
  // twice). The views are the very ones RouteParams::pattern gives, valid while the router
  // lives and no route is added: an observer may tell routes apart by their data pointer.
  std::vector<std::string_view> patterns() const;

 private:
  struct Route {
    Method method;
    std::string pattern;                // as given to add()
    std::vector<std::string> segments;  // "{...}" = capture
    std::string allow;                  // every method registered for this pattern
    Handler* handler;
  };
  static bool match(const Route& route, std::string_view path, RouteParams& params);
  std::vector<Route> routes_;
};

std::string_view method_name(Method method);
Method parse_method(std::string_view text);

}  // namespace intake::http
