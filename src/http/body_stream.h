// Streaming requests: a handler that answers while the request body is still arriving (the
// Confluent v3 produce stream: JSON records one after another in one chunked body, one report
// per record written as each is acknowledged). The connection feeds the stream the decoded
// body as it comes and sends whatever the stream wrote, in order, each as one HTTP chunk of a
// `200` chunked answer; the answer ends once the body ended and the stream finished.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace intake::http {

// The answer's parts, written from any thread, read by the connection. Thread-safe.
class StreamOutput {
 public:
  // Appended to the answer in call order; ignored after finish().
  void write(std::string_view part);
  // No more parts: the answer ends once the connection has sent what was written.
  void finish();

  // Connection side. `wake` runs (on the writing thread) whenever a part or the finish
  // arrives; an empty function detaches (writes are then kept but nobody is told).
  void set_waker(std::function<void()> wake);
  // Moves the parts written so far to the end of `into`; true once finish() was called and
  // nothing remains.
  bool take(std::string& into);

 private:
  std::mutex mutex_;
  std::string parts_;
  bool finished_ = false;
  std::function<void()> wake_;
};

// The handler's side of one streaming request. Runs on the connection's thread; must not block.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // `body` holds the decoded body bytes not consumed yet, new ones at the end; the stream
  // erases what it has consumed. Returns false when it reads no more of this body (it has
  // finished its output, e.g. after a framing error it reported): the connection then closes
  // once the output is sent.
  virtual bool on_body(std::string& body) = 0;
  // The body ended; what `body` still holds is passed first. The stream finishes its output
  // once every record it took has its report.
  virtual void on_end(std::string& body) = 0;
  // The answer's Content-Type.
  virtual std::string_view content_type() const { return "application/json"; }
};

}  // namespace intake::http
