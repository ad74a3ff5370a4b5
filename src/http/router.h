// Router: maps (method, path) to a handler. Patterns are literal segments and `{name}`
// captures, e.g. `/v1/topics/{topic}`. An unknown path gives not_found; a known path with
// another method gives method_not_allowed naming the allowed ones.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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
  // Called on the connection's thread; must not block.
  virtual Response handle(const Request& request, const RouteParams& params) = 0;
};

class Router {
 public:
  // REQUIRES: called before the server starts (routes are read without locks afterwards).
  // `handler` must outlive the router. Throws std::invalid_argument for a bad pattern.
  void add(Method method, std::string_view pattern, Handler& handler);

  // Routes and runs the handler, or returns the not_found / method_not_allowed error response.
  Response dispatch(const Request& request) const;

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
