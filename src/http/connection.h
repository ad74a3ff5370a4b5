// Connection: one client's TCP connection, from accept to close, on its worker's thread.
//
// The request path is one read, one parse of the head in place (views, no copies), the
// handler, and the answer appended to an output buffer that leaves in one send once no
// further complete request is buffered — so pipelined requests are answered in order with
// batched writes. Nothing is allocated per request in the steady state: the read buffer,
// the parser and the output buffer belong to the connection and are reused.
//
// Each phase has its own clock (http/server_options.h), enforced by the worker's sweep
// (check_deadline) rather than a timer per operation: idle keep-alive, headers (408), body
// with a minimum rate (408), a sync answer (504), the answer's write, and the lingering close
// that lets a client read an early answer before the socket goes.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "http/body_stream.h"
#include "http/connection_limits.h"
#include "http/head_parser.h"
#include "http/request_head.h"
#include "http/request_observer.h"
#include "http/response_bytes.h"
#include "http/router.h"
#include "http/server_counters.h"
#include "http/server_options.h"
#include "http/tls_context.h"
#include "http/transport.h"

namespace intake::http {

using Clock = std::chrono::steady_clock;

// What every connection of a server shares.
struct ConnectionEnv {
  const ServerOptions& options;
  const Router& router;
  ConnectionCaps& caps;
  BodyBudget& budget;
  ServerCounters& counters;
  std::atomic<int>& active_requests;
  const std::atomic<bool>& draining;
  std::span<RequestObserver* const> observers;  // told of every answered request
  unsigned worker = 0;                          // this worker's index, for observers' shards
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Registry = std::list<std::shared_ptr<Connection>>;

  // `counted`: the connection holds a place in env.caps for `client`, given back on close.
  // `tls` non-null: the connection speaks TLS with that context (its handshake runs on the
  // headers clock before the first request is read).
  Connection(boost::asio::ip::tcp::socket socket, const ClientAddress& client, bool counted, const ConnectionEnv& env,
             Registry& registry, std::shared_ptr<const TlsContext> tls = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves requests. REQUIRES: `self` is this connection's place in the registry.
  void start(Registry::iterator self);
  // Answers `refusal` at once (a connection over a cap), then closes without reading requests.
  void refuse(Registry::iterator self, const Response& refusal);

  // From the worker's sweep: acts on a phase whose clock ran out.
  void check_deadline(Clock::time_point now);
  // Closes the socket now; nothing more is sent.
  void close();
  // Holds a place in the caps (false for a refused connection lingering).
  bool counted() const { return counted_; }

 private:
  enum class Phase : std::uint8_t {
    kHandshake,
    kIdle,
    kHeaders,
    kBody,
    kAwaiting,
    kStreaming,
    kWriting,
    kLingering,
    kClosed
  };

  void enter(Phase phase, std::uint32_t timeout_ms);
  void handshake();
  void on_handshake(const boost::system::error_code& error);
  void process();
  bool parse_next_head();
  void begin_request();
  void answer_before_body(Response response);
  bool body_complete();
  bool take_chunked();
  std::optional<Error> decode_chunked(std::size_t& decoded);
  void start_stream(std::unique_ptr<BodyStream> stream, std::shared_ptr<StreamOutput> output);
  bool stream_step();
  void end_stream();
  void handle();
  bool try_deferred();
  void answer(const Response& response);
  void tell_observers(int status);
  void fail(const Error& error);
  bool flush();
  void on_written(const boost::system::error_code& error);
  void read_more();
  void on_read(std::uint32_t seq, const boost::system::error_code& error, std::size_t bytes);
  void linger();
  void release_body();
  void settle_answers();
  std::size_t body_received() const;
  bool reading_into_body() const;

  Transport transport_;
  std::shared_ptr<const PeerIdentity> peer_;  // a verified client certificate (TLS only)
  ClientAddress client_;
  bool counted_;
  const ConnectionEnv& env_;
  Registry& registry_;
  Registry::iterator self_;

  // Read buffer: [begin_, end_) holds unparsed bytes; a head (and a body that fits) is parsed
  // and handled in place.
  std::unique_ptr<char[]> in_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t head_end_ = 0;  // one past the current request's head

  RequestParser parser_;
  RequestHead head_;
  HeadFields fields_{head_};
  Request request_;
  Routed routed_;
  bool in_request_ = false;            // a head was parsed and its answer is not yet in out_
  Clock::time_point request_start_{};  // the read that completed the head

  // The current request's body when it is chunked or does not fit in_.
  std::string body_;
  bool body_in_place_ = true;
  std::uint64_t body_length_ = 0;  // Content-Length
  std::size_t body_received_ = 0;  // bytes of body_ filled (Content-Length bodies)
  std::size_t chunked_taken_ = 0;  // wire bytes of a chunked body the parser took
  std::size_t body_reserved_ = 0;  // held from env_.budget
  Clock::time_point body_start_{};

  // A streaming request (http/body_stream.h): its stream, where it writes, and its state.
  std::unique_ptr<BodyStream> stream_;
  std::shared_ptr<StreamOutput> stream_output_;
  std::string stream_parts_;
  bool stream_body_ended_ = false;
  bool stream_reads_ = false;  // false once the stream read all it will
  bool stream_keep_alive_ = false;

  std::shared_ptr<DeferredResponse> deferred_;
  std::uint32_t deferred_timeout_ms_ = 0;
  Response (*render_deferred_error_)(const Error& error) = nullptr;

  std::string out_;
  std::size_t out_sent_ = 0;
  int answers_in_out_ = 0;  // counted requests whose answers wait in out_
  bool close_after_write_ = false;
  bool continue_in_out_ = false;  // a 100 Continue waits in out_

  Phase phase_ = Phase::kIdle;
  // Read once per event (a read, a write, a wake-up, the sweep): every phase clock that event
  // starts counts from it.
  Clock::time_point now_{};
  Clock::time_point deadline_ = Clock::time_point::max();
  Phase resume_phase_ = Phase::kIdle;  // what a slow write interrupted
  Clock::time_point resume_deadline_{};
  std::uint32_t read_seq_ = 0;  // completions of superseded reads are ignored
  bool reading_ = false;
  bool reading_body_ = false;  // the read under way fills body_ (else in_)
};

}  // namespace intake::http
