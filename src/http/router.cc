#include "http/router.h"

#include <stdexcept>
#include <utility>

namespace intake::http {
namespace {

std::vector<std::string> split_pattern(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  }
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    auto end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    segments.emplace_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool is_capture(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kGet:
      return "GET";
    case Method::kHead:
      return "HEAD";
    case Method::kPost:
      return "POST";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kPatch:
      return "PATCH";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

Method parse_method(std::string_view text) {
  if (text == "GET") return Method::kGet;
  if (text == "POST") return Method::kPost;
  if (text == "HEAD") return Method::kHead;
  if (text == "PUT") return Method::kPut;
  if (text == "DELETE") return Method::kDelete;
  if (text == "PATCH") return Method::kPatch;
  if (text == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

std::vector<std::string_view> Router::patterns() const {
  std::vector<std::string_view> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) out.emplace_back(route.pattern);
  return out;
}

void Router::add(Method method, std::string_view pattern, Handler& handler) {
  Route route{method, std::string(pattern), split_pattern(pattern), std::string(method_name(method)), &handler};
  std::size_t captures = 0;
  for (const auto& segment : route.segments) captures += is_capture(segment) ? 1 : 0;
  if (captures > kMaxRouteParams) throw std::invalid_argument("too many captures in " + std::string(pattern));
  // Every route of the same pattern advertises all methods in its Allow header.
  for (auto& other : routes_) {
    if (other.segments == route.segments) {
      other.allow += ", " + route.allow;
      route.allow = other.allow;
    }
  }
  for (auto& other : routes_) {
    if (other.segments == route.segments) other.allow = route.allow;
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, std::string_view path, RouteParams& params) {
  if (path.empty() || path.front() != '/') return false;
  params.count = 0;
  std::size_t start = 1;
  for (const std::string& expected : route.segments) {
    if (start > path.size()) return false;
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (is_capture(expected)) {
      if (segment.empty()) return false;
      params.values[params.count++] = segment;
    } else if (segment != expected) {
      return false;
    }
    start = end + 1;
  }
  return start > path.size();
}

Routed Router::route(const Request& request) const {
  Routed routed;
  const Route* path_match = nullptr;
  for (const auto& route : routes_) {
    if (!match(route, request.path, routed.params)) continue;
    // HEAD is answered like GET by convention; the server drops the body.
    if (route.method == request.method || (request.method == Method::kHead && route.method == Method::kGet)) {
      routed.params.pattern = route.pattern;
      routed.handler = route.handler;
      return routed;
    }
    path_match = &route;
  }
  if (path_match != nullptr) {
    routed.refusal = error_response(
        Error{ErrorCode::kMethodNotAllowed, std::string(method_name(request.method)) + " is not allowed on " +
                                                std::string(request.path) + "; use " + path_match->allow});
    routed.refusal.allow = path_match->allow;
    return routed;
  }
  routed.refusal = error_response(Error{
      ErrorCode::kNotFound, "no endpoint at " + std::string(request.path) + "; records go to POST /v1/topics/{topic}"});
  return routed;
}

Response Router::dispatch(const Request& request) const {
  Routed routed = route(request);
  if (routed.handler == nullptr) return std::move(routed.refusal);
  if (auto refusal = routed.handler->check_headers(request, routed.params)) return std::move(*refusal);
  return routed.handler->handle(request, routed.params);
}

}  // namespace intake::http
