// The request and response shapes handlers see. Views point into the connection's read buffer
// and are valid only while the handler runs; nothing here depends on the HTTP library.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "error/error.h"

namespace intake::http {

enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };

// Case-insensitive header lookup supplied by the server.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // Returns the header's value, or an empty view when it is absent.
  virtual std::string_view find(std::string_view name) const = 0;
  // Calls `visit` with every header field, in the order received, repeated names included
  // (what a request signature covers is chosen from them: policy/signature.h).
  virtual void for_each(const std::function<void(std::string_view name, std::string_view value)>& visit) const = 0;
};

struct PeerIdentity;  // http/tls_context.h

struct Request {
  Method method = Method::kOther;
  std::string_view path;   // without the query string
  std::string_view query;  // after '?', may be empty
  std::string_view body;
  const HeaderSource* headers = nullptr;
  const PeerIdentity* peer = nullptr;  // the connection's verified client certificate, if any

  std::string_view header(std::string_view name) const { return headers ? headers->find(name) : std::string_view{}; }
};

class DeferredResponse;

struct Response {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json";
  std::string_view allow;           // set on 405: the methods the path accepts
  std::uint32_t retry_after_s = 0;  // 0 = no Retry-After header
  bool close_connection = false;    // e.g. after a framing error we cannot recover from
  // Set when the answer comes later (sync delivery): the server waits for it, up to
  // deferred_timeout_ms, then answers 504 delivery_timeout. The fields above are ignored.
  std::shared_ptr<DeferredResponse> deferred;
  std::uint32_t deferred_timeout_ms = 0;
  // With `deferred`: renders that 504 in the route's own error form (the Confluent routes
  // answer in theirs); null = error_response.
  Response (*render_deferred_error)(const Error& error) = nullptr;
};

// A response completed later from any thread. The server registers a waker; complete() calls
// it. Thread-safe.
class DeferredResponse {
 public:
  // The first call wins; later ones are ignored.
  void complete(Response response);
  // Server side: `wake` runs (on the completing thread) once a response is there. Returns
  // true if it already is (then `wake` is not kept). An empty function detaches.
  bool set_waker(std::function<void()> wake);
  std::optional<Response> take();
  // `observe` runs once with the status of the response complete() stores, before the waker
  // (on the completing thread), or at once when it is already there: how a request's
  // outcome is settled once a deferred answer is known (api/produce_gate.h). One observer;
  // dropped uncalled if the response is never completed.
  void on_complete(std::function<void(int status)> observe);

 private:
  std::mutex mutex_;
  std::optional<Response> response_;
  std::optional<int> completed_status_;  // kept after take()
  std::function<void()> wake_;
  std::function<void(int status)> observe_;
};

// `{"error":{"code":"<name>","message":"<message>"}}` with the code's HTTP status.
Response error_response(const Error& error);

// A small JSON body with the given status.
Response json_response(int status, std::string body);

}  // namespace intake::http
