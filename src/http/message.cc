#include "http/message.h"

#include "error/error_body.h"
#include "json/writer.h"

#include <utility>

namespace intake::http {

Response error_response(const Error& error) {
  Response response;
  response.status = error_http_status(error.code);
  response.body.reserve(64 + error.message.size());
  json::Writer body(response.body);
  body.begin_object();
  write_error_member(body, error);
  body.end_object();
  // Tell well-behaved clients when to come back instead of letting them hammer us.
  response.retry_after_s = error.retry_after_s > 0 ? error.retry_after_s : error_retry_after_s(error.code);
  return response;
}

void DeferredResponse::complete(Response response) {
  std::function<void()> wake;
  std::function<void(int)> observe;
  const int status = response.status;
  {
    std::lock_guard lock(mutex_);
    if (completed_status_) return;
    completed_status_ = status;
    response_ = std::move(response);
    wake = std::move(wake_);
    observe = std::move(observe_);
  }
  if (observe) observe(status);
  if (wake) wake();
}

void DeferredResponse::on_complete(std::function<void(int status)> observe) {
  std::optional<int> status;
  {
    std::lock_guard lock(mutex_);
    if (!completed_status_) {
      observe_ = std::move(observe);
      return;
    }
    status = completed_status_;
  }
  observe(*status);
}

bool DeferredResponse::set_waker(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  if (response_ && wake) return true;
  wake_ = std::move(wake);
  return false;
}

std::optional<Response> DeferredResponse::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(response_, std::nullopt);
}

Response json_response(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace intake::http
