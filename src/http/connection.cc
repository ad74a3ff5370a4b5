#include "http/connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace intake::http {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A typical produce request and its body fit; larger heads grow the buffer up to
// max_header_bytes, larger bodies go to a buffer of their own counted by the body budget.
constexpr std::size_t kInitialBuffer = 8 * 1024;
// An early answer (401 before an unread body, 413, a cap's 503) is followed by this long a
// read-and-discard, so the client sees the answer rather than a reset.
constexpr std::uint32_t kLingerMs = 2'000;
// Pipelined answers are sent before this many bytes pile up.
constexpr std::size_t kOutHighWater = 64 * 1024;
// Chunked bodies take from the body budget in steps of this size.
constexpr std::size_t kChunkedReserveStep = 64 * 1024;

std::string ms_text(std::uint32_t ms) { return std::to_string(ms) + " ms"; }

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, const ClientAddress& client, bool counted,
                       const ConnectionEnv& env, Registry& registry, std::shared_ptr<const TlsContext> tls)
    : transport_(std::move(socket), std::move(tls)),
      client_(client),
      counted_(counted),
      env_(env),
      registry_(registry),
      capacity_(std::min(kInitialBuffer, env.options.max_header_bytes + 1024)),
      parser_(env.options.max_header_bytes, env.options.max_body_bytes) {
  in_ = std::make_unique<char[]>(capacity_);
}

Connection::~Connection() { release_body(); }

void Connection::start(Registry::iterator self) {
  self_ = self;
  error_code ignored;
  transport_.socket().non_blocking(true, ignored);
  transport_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  now_ = Clock::now();
  if (transport_.is_tls()) {
    handshake();
    return;
  }
  enter(Phase::kIdle, env_.options.idle_timeout_ms);
  read_more();
}

// The handshake runs on the headers clock: one that stalls is closed when it runs out.
void Connection::handshake() {
  enter(Phase::kHandshake, env_.options.header_timeout_ms);
  transport_.async_handshake([self = shared_from_this()](const error_code& error) { self->on_handshake(error); });
}

void Connection::on_handshake(const error_code& error) {
  if (phase_ == Phase::kClosed) return;
  if (error) {
    env_.counters.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    close();
    return;
  }
  peer_ = verified_peer(transport_.native_tls());
  now_ = Clock::now();
  if (close_after_write_) {  // a refusal waits in out_
    phase_ = Phase::kIdle;
    process();
    return;
  }
  enter(Phase::kIdle, env_.options.idle_timeout_ms);
  read_more();
}

void Connection::refuse(Registry::iterator self, const Response& refusal) {
  self_ = self;
  error_code ignored;
  transport_.socket().non_blocking(true, ignored);
  append_response(out_, refusal, Framing{.version = 11, .keep_alive = false, .head_request = false});
  close_after_write_ = true;
  now_ = Clock::now();
  if (transport_.is_tls()) {
    handshake();
    return;
  }
  process();
}

void Connection::enter(Phase phase, std::uint32_t timeout_ms) {
  phase_ = phase;
  deadline_ = timeout_ms == 0 ? Clock::time_point::max() : now_ + std::chrono::milliseconds(timeout_ms);
}

// Runs until the connection must wait for the client, Kafka or the socket.
void Connection::process() {
  while (phase_ != Phase::kClosed) {
    // A write under way owns out_ (on_written resumes); a lingering connection only discards.
    if (phase_ == Phase::kWriting || phase_ == Phase::kLingering || phase_ == Phase::kHandshake) return;
    if (close_after_write_) {
      if (flush()) linger();
      return;
    }
    switch (phase_) {
      case Phase::kHandshake:
        return;
      case Phase::kIdle:
      case Phase::kHeaders:
        if (out_.size() > kOutHighWater && !flush()) return;
        if (!parse_next_head()) return;
        begin_request();
        break;
      case Phase::kBody:
        if (!body_complete()) return;
        handle();
        break;
      case Phase::kStreaming:
        if (!stream_step()) return;
        break;
      case Phase::kAwaiting:
        if (!try_deferred()) {
          flush();  // earlier pipelined answers need not wait for Kafka
          return;
        }
        break;
      case Phase::kWriting:
      case Phase::kLingering:
      case Phase::kClosed:
        return;
    }
  }
}

// True once a complete head sits at begin_ (head_end_ set); false when waiting or failed.
bool Connection::parse_next_head() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (!flush()) return false;
    if (env_.draining.load(std::memory_order_relaxed)) {
      close();  // draining: an idle connection goes now, so clients move on
      return false;
    }
    if (phase_ != Phase::kIdle) enter(Phase::kIdle, env_.options.idle_timeout_ms);
    read_more();
    return false;
  }
  // The first byte of a request starts its head's clock.
  if (phase_ == Phase::kIdle) enter(Phase::kHeaders, env_.options.header_timeout_ms);
  auto parsed = parser_.parse_head(std::string_view(in_.get() + begin_, end_ - begin_), head_);
  if (!parsed) {
    fail(parsed.error());
    return false;
  }
  if (parsed.value() == 0) {
    if (!flush()) return false;
    read_more();
    return false;
  }
  head_end_ = begin_ + parsed.value();
  return true;
}

void Connection::begin_request() {
  in_request_ = true;
  request_start_ = now_;
  env_.active_requests.fetch_add(1, std::memory_order_relaxed);
  request_ = Request{};
  request_.method = head_.method;
  const auto question = head_.target.find('?');
  request_.path = head_.target.substr(0, question);
  if (question != std::string_view::npos) request_.query = head_.target.substr(question + 1);
  request_.headers = &fields_;
  request_.peer = peer_.get();
  body_length_ = head_.chunked ? 0 : head_.content_length.value_or(0);

  routed_ = env_.router.route(request_);
  if (routed_.handler == nullptr) {
    answer_before_body(std::move(routed_.refusal));
    return;
  }
  // Authentication and rights are settled from the headers, before 100 Continue and before
  // the body is read: an unauthenticated upload costs neither bandwidth nor memory.
  if (auto refusal = routed_.handler->check_headers(request_, routed_.params)) {
    answer_before_body(std::move(*refusal));
    return;
  }
  if (head_.chunked && head_.version == 11) {
    auto output = std::make_shared<StreamOutput>();
    if (auto stream = routed_.handler->open_stream(request_, routed_.params, output)) {
      start_stream(std::move(stream), std::move(output));
      return;
    }
  }
  const std::size_t buffered = end_ - head_end_;
  body_in_place_ = !head_.chunked && head_end_ + body_length_ <= capacity_;
  body_.clear();
  body_received_ = 0;
  chunked_taken_ = 0;
  if (!head_.chunked && !body_in_place_) {
    if (!env_.budget.reserve(body_length_)) {
      env_.counters.body_budget_refused.fetch_add(1, std::memory_order_relaxed);
      answer_before_body(error_response(
          Error{ErrorCode::kServerBusy,
                "the gateway holds too many request bodies right now (server.max_inflight_body_bytes); retry shortly",
                env_.options.retry_after_s}));
      return;
    }
    body_reserved_ = body_length_;
    body_.resize(body_length_);
    // Everything buffered after the head belongs to this body: it does not fit in_.
    std::memcpy(body_.data(), in_.get() + head_end_, buffered);
    body_received_ = buffered;
    end_ = head_end_;
  }
  body_start_ = now_;
  enter(Phase::kBody, env_.options.body_timeout_ms);
  // Only when the body is still to come; the process() loop reads it (out_ is not being written
  // here: process() does not run while a write is under way).
  if (head_.expect_continue && head_.has_body() && (head_.chunked || body_received() < body_length_)) {
    out_.append(kContinue);
    continue_in_out_ = true;  // the body's clock starts once the client can have read it
  }
}

// The headers decided the answer. A body still on its way would be read as the next request,
// so then the connection closes after the answer.
void Connection::answer_before_body(Response response) {
  const bool body_buffered = !head_.has_body() || (!head_.chunked && end_ - head_end_ >= body_length_);
  if (head_.has_body()) env_.counters.refused_before_body.fetch_add(1, std::memory_order_relaxed);
  if (body_buffered) {
    begin_ = head_end_ + body_length_;
  } else {
    response.close_connection = true;
  }
  answer(response);
}

std::size_t Connection::body_received() const {
  if (head_.chunked) return chunked_taken_;
  return body_in_place_ ? std::min<std::size_t>(end_ - head_end_, body_length_) : body_received_;
}

bool Connection::reading_into_body() const { return phase_ == Phase::kBody && !head_.chunked && !body_in_place_; }

// True when the whole body is in hand; otherwise reads more (or has failed).
bool Connection::body_complete() {
  if (head_.chunked) return take_chunked();
  if (body_received() >= body_length_) return true;
  if (!flush()) return false;
  read_more();
  return false;
}

// Hands buffered chunked bytes to the parser, which appends what they decode to body_
// (`decoded` bytes); the undecoded rest moves down to head_end_ (the head's views, before it,
// stay put). An error means the body cannot be read on.
std::optional<Error> Connection::decode_chunked(std::size_t& decoded) {
  const std::size_t before = body_.size();
  auto taken = parser_.parse_chunked(std::string_view(in_.get() + head_end_, end_ - head_end_), body_);
  if (!taken) return std::move(taken).error();
  decoded = body_.size() - before;
  chunked_taken_ += taken.value();
  std::memmove(in_.get() + head_end_, in_.get() + head_end_ + taken.value(), end_ - head_end_ - taken.value());
  end_ -= taken.value();
  while (body_.size() > body_reserved_) {
    if (!env_.budget.reserve(kChunkedReserveStep)) {
      env_.counters.body_budget_refused.fetch_add(1, std::memory_order_relaxed);
      return Error{
          ErrorCode::kServerBusy,
          "the gateway holds too many request bodies right now (server.max_inflight_body_bytes); retry shortly",
          env_.options.retry_after_s};
    }
    body_reserved_ += kChunkedReserveStep;
  }
  if (!parser_.body_done() && end_ == capacity_)
    return Error{ErrorCode::kBadRequest, "a chunk header or trailer is too long"};
  return std::nullopt;
}

bool Connection::take_chunked() {
  std::size_t decoded = 0;
  if (auto error = decode_chunked(decoded)) {
    fail(*error);
    return false;
  }
  if (parser_.body_done()) return true;
  if (!flush()) return false;
  read_more();
  return false;
}

void Connection::start_stream(std::unique_ptr<BodyStream> stream, std::shared_ptr<StreamOutput> output) {
  stream_ = std::move(stream);
  stream_output_ = std::move(output);
  stream_body_ended_ = false;
  stream_reads_ = true;
  body_in_place_ = false;
  body_.clear();
  chunked_taken_ = 0;
  stream_keep_alive_ = head_.keep_alive && !env_.draining.load(std::memory_order_relaxed);
  if (head_.expect_continue) out_.append(kContinue);
  append_stream_head(out_, stream_->content_type(), stream_keep_alive_);
  // Parts come from Kafka's threads: a wake-up is acted on only while this connection still
  // streams this answer (a write under way resumes through on_written instead).
  std::weak_ptr<Connection> weak = weak_from_this();
  auto executor = transport_.get_executor();
  stream_output_->set_waker([weak, executor, awaited = stream_output_.get()] {
    asio::post(executor, [weak, awaited] {
      auto self = weak.lock();
      if (!self || self->stream_output_.get() != awaited || self->phase_ != Phase::kStreaming) return;
      self->now_ = Clock::now();
      self->process();
    });
  });
  // The stream's clock: it may wait for Kafka as long as a sync request does.
  enter(Phase::kStreaming, std::max(env_.options.idle_timeout_ms, env_.options.sync_timeout_ms));
}

// One round of a streaming request: body in, parts out. True once its answer is complete.
bool Connection::stream_step() {
  enter(Phase::kStreaming, std::max(env_.options.idle_timeout_ms, env_.options.sync_timeout_ms));
  if (!stream_body_ended_ && stream_reads_) {
    std::size_t decoded = 0;
    if (decode_chunked(decoded)) {
      // The 200 head is out: a body that cannot be read on ends the answer unfinished (no last
      // chunk), which tells the client the stream broke.
      stream_output_->take(stream_parts_);
      append_chunk(out_, stream_parts_);
      stream_parts_.clear();
      close_after_write_ = true;
      end_stream();
      return true;
    }
    if (parser_.body_done()) {
      stream_body_ended_ = true;
      stream_->on_end(body_);
    } else if (decoded > 0 && !stream_->on_body(body_)) {
      stream_reads_ = false;
    }
  }
  const bool finished = stream_output_->take(stream_parts_);
  append_chunk(out_, stream_parts_);
  stream_parts_.clear();
  if (finished) {
    out_.append(kLastChunk);
    // A body the stream stopped reading leaves its rest on the wire: the connection cannot
    // find the next request's start.
    if (!stream_body_ended_ || !stream_keep_alive_) close_after_write_ = true;
    end_stream();
    return true;
  }
  if (!flush()) return false;
  if (!stream_body_ended_ && stream_reads_) read_more();
  return false;
}

void Connection::end_stream() {
  stream_output_->set_waker({});
  stream_output_.reset();
  stream_.reset();
  if (in_request_) {
    tell_observers(200);
    in_request_ = false;
    ++answers_in_out_;
  }
  release_body();
  parser_.reset();
  begin_ = head_end_;  // the undecoded rest (a pipelined request) sits at head_end_
  if (begin_ == end_) {
    enter(Phase::kIdle, env_.options.idle_timeout_ms);
  } else {
    enter(Phase::kHeaders, env_.options.header_timeout_ms);
  }
}

void Connection::handle() {
  if (body_in_place_) {
    request_.body = std::string_view(in_.get() + head_end_, body_length_);
    begin_ = head_end_ + body_length_;
  } else {
    request_.body = body_;
    begin_ = head_end_;
  }
  Response response = routed_.handler->handle(request_, routed_.params);
  if (!response.deferred) {
    answer(response);
    return;
  }
  // Sync delivery: the answer comes from Kafka's thread; the views above stay valid because
  // nothing more is parsed until it is written.
  deferred_ = std::move(response.deferred);
  deferred_timeout_ms_ = response.deferred_timeout_ms > 0 ? response.deferred_timeout_ms : env_.options.sync_timeout_ms;
  render_deferred_error_ = response.render_deferred_error;
  enter(Phase::kAwaiting, deferred_timeout_ms_);
  std::weak_ptr<Connection> weak = weak_from_this();
  auto executor = transport_.get_executor();
  // complete() may call a waker it took just before set_waker({}) detached it: a wake-up is
  // acted on only while this connection still awaits this answer (a write under way resumes
  // through on_written instead).
  deferred_->set_waker([weak, executor, awaited = deferred_.get()] {
    asio::post(executor, [weak, awaited] {
      auto self = weak.lock();
      if (!self || self->deferred_.get() != awaited || self->phase_ != Phase::kAwaiting) return;
      self->now_ = Clock::now();
      self->process();
    });
  });
}

// The sync answer, if Kafka's report is in.
bool Connection::try_deferred() {
  auto response = deferred_->take();
  if (!response) return false;
  deferred_->set_waker({});
  deferred_.reset();
  answer(*response);
  return true;
}

void Connection::answer(const Response& response) {
  // head_ is still the request's: nothing more is parsed until it is answered.
  const bool keep_alive = head_.keep_alive && !response.close_connection && !env_.draining.load();
  append_response(
      out_, response,
      Framing{.version = head_.version, .keep_alive = keep_alive, .head_request = head_.method == Method::kHead});
  tell_observers(response.status);
  if (in_request_) {
    in_request_ = false;
    ++answers_in_out_;
  }
  if (!keep_alive) close_after_write_ = true;
  release_body();
  parser_.reset();
  if (begin_ == end_) {
    enter(Phase::kIdle, env_.options.idle_timeout_ms);
  } else {
    enter(Phase::kHeaders, env_.options.header_timeout_ms);  // a pipelined request waits
  }
}

void Connection::tell_observers(int status) {
  if (env_.observers.empty()) return;
  // An answer with no request in hand (garbage, a header timeout) is still an answered request,
  // of no route.
  const bool routed = in_request_ && routed_.handler != nullptr;
  const AnsweredRequest answered{
      .method = in_request_ ? head_.method : Method::kOther,
      .route = routed ? routed_.params.pattern : std::string_view{},
      .path = in_request_ ? request_.path : std::string_view{},
      .status = status,
      .duration = in_request_ ? std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - request_start_)
                              : std::chrono::nanoseconds{0},
      .body_bytes = in_request_ ? body_received() : 0,
      .client = &client_,
      .worker = env_.worker};
  for (RequestObserver* observer : env_.observers) observer->on_answered(answered);
}

void Connection::fail(const Error& error) {
  // Before a head was parsed, head_ is the last request's (or a partial one): not this answer's framing.
  if (!in_request_) head_ = RequestHead{};
  Response response = error_response(error);
  response.close_connection = true;
  answer(response);
  process();
}

// Sends what out_ holds. True when all of it left at once; false when the rest is being
// written (on_written resumes) or the connection closed.
bool Connection::flush() {
  // TLS writes go through the stream's engine, which a non-blocking write_some could leave
  // holding half a record: they always take the async path.
  if (out_sent_ < out_.size() && !transport_.is_tls()) {
    error_code error;
    out_sent_ += transport_.socket().write_some(asio::buffer(out_.data() + out_sent_, out_.size() - out_sent_), error);
    if (error && error != asio::error::would_block && error != asio::error::try_again) {
      close();
      return false;
    }
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
    settle_answers();
    return true;
  }
  // The client reads slowly: the rest goes when it can, on the write clock.
  resume_phase_ = phase_;
  resume_deadline_ = deadline_;
  enter(Phase::kWriting, env_.options.write_timeout_ms);
  transport_.async_write(
      asio::buffer(out_.data() + out_sent_, out_.size() - out_sent_),
      [self = shared_from_this()](const error_code& error, std::size_t /*bytes*/) { self->on_written(error); });
  return false;
}

void Connection::on_written(const error_code& error) {
  if (phase_ == Phase::kClosed) return;
  if (error) {
    close();
    return;
  }
  out_.clear();
  out_sent_ = 0;
  now_ = Clock::now();
  phase_ = resume_phase_;
  deadline_ = resume_deadline_;
  settle_answers();
  process();
}

// Everything in out_ has been sent.
void Connection::settle_answers() {
  env_.active_requests.fetch_sub(answers_in_out_, std::memory_order_relaxed);
  answers_in_out_ = 0;
  if (continue_in_out_) {
    continue_in_out_ = false;
    if (phase_ == Phase::kBody) {
      body_start_ = now_;
      enter(Phase::kBody, env_.options.body_timeout_ms);
    }
  }
}

void Connection::read_more() {
  if (reading_) return;
  asio::mutable_buffer target;
  reading_body_ = reading_into_body();
  if (reading_body_) {
    target = asio::buffer(body_.data() + body_received_, body_length_ - body_received_);
  } else {
    // A streaming request's head stays where it is: the stream holds views of its headers.
    if (end_ == capacity_ && begin_ > 0 && phase_ != Phase::kStreaming) {
      // Only ever between requests or inside a head: no view points into the buffer.
      std::memmove(in_.get(), in_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == capacity_) {
      // A head longer than the buffer: grow up to what max_header_bytes allows, and then some
      // so the parser sees the limit passed.
      const std::size_t grown = std::min(capacity_ * 2, env_.options.max_header_bytes + 1024);
      if (grown > capacity_ && phase_ != Phase::kBody && phase_ != Phase::kStreaming) {
        auto bigger = std::make_unique<char[]>(grown);
        std::memcpy(bigger.get(), in_.get(), end_);
        in_ = std::move(bigger);
        capacity_ = grown;
      } else {
        fail(Error{ErrorCode::kRequestHeaderTooLarge, "request headers exceed " +
                                                          std::to_string(env_.options.max_header_bytes) +
                                                          " bytes; send fewer or shorter headers"});
        return;
      }
    }
    target = asio::buffer(in_.get() + end_, capacity_ - end_);
  }
  reading_ = true;
  transport_.async_read_some(target,
                             [self = shared_from_this(), seq = read_seq_](const error_code& error, std::size_t bytes) {
                               self->on_read(seq, error, bytes);
                             });
}

void Connection::on_read(std::uint32_t seq, const error_code& error, std::size_t bytes) {
  if (seq != read_seq_ || phase_ == Phase::kClosed) return;
  reading_ = false;
  now_ = Clock::now();
  if (phase_ == Phase::kLingering) {
    if (error || bytes == 0) {
      close();
    } else {
      linger();  // discards and reads on until the client closes or the linger ends
    }
    return;
  }
  if (error) {
    close();  // the client went away; an unfinished request has no one to answer
    return;
  }
  if (reading_body_) {
    body_received_ += bytes;
  } else {
    end_ += bytes;
  }
  process();
}

// Half-closes and discards what the client still sends, so it reads the answer rather than
// a reset; the sweep ends it after kLingerMs.
void Connection::linger() {
  if (phase_ != Phase::kLingering) {
    error_code ignored;
    if (!transport_.is_tls()) transport_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    if (reading_) {
      transport_.socket().cancel(ignored);  // a read into the body buffer must not outlive it
      reading_ = false;
    }
    ++read_seq_;
    release_body();
    enter(Phase::kLingering, kLingerMs);
    if (transport_.is_tls()) {
      // close_notify, then the client's, within the linger clock; either way the socket goes.
      transport_.async_shutdown([self = shared_from_this(), seq = read_seq_](const error_code& /*error*/) {
        if (seq == self->read_seq_ && self->phase_ == Phase::kLingering) self->close();
      });
      return;
    }
  }
  if (reading_) return;
  reading_ = true;
  reading_body_ = false;
  transport_.async_read_some(asio::buffer(in_.get(), capacity_),
                             [self = shared_from_this(), seq = read_seq_](const error_code& error, std::size_t bytes) {
                               self->on_read(seq, error, bytes);
                             });
}

void Connection::check_deadline(Clock::time_point now) {
  now_ = now;
  if (phase_ == Phase::kIdle && env_.draining.load(std::memory_order_relaxed) && out_.empty()) {
    close();
    return;
  }
  if (now < deadline_) return;
  switch (phase_) {
    case Phase::kHandshake:
      env_.counters.tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
      env_.counters.header_timeouts.fetch_add(1, std::memory_order_relaxed);
      close();  // nothing can be answered before the handshake is done
      return;
    case Phase::kIdle:
      env_.counters.idle_closed.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    case Phase::kHeaders:
      env_.counters.header_timeouts.fetch_add(1, std::memory_order_relaxed);
      fail(Error{ErrorCode::kRequestTimeout, "the request headers did not arrive within " +
                                                 ms_text(env_.options.header_timeout_ms) +
                                                 " (server.header_timeout_ms)"});
      return;
    case Phase::kBody: {
      // Past the grace the body must keep up its minimum average rate; else wait until it
      // would fall behind.
      const auto rate = env_.options.body_min_bytes_per_s;
      if (rate > 0) {
        const auto earned = std::chrono::milliseconds(body_received() * 1000 / rate);
        const auto behind = body_start_ + std::chrono::milliseconds(env_.options.body_timeout_ms) + earned;
        if (now < behind) {
          deadline_ = behind;
          return;
        }
      }
      env_.counters.body_timeouts.fetch_add(1, std::memory_order_relaxed);
      fail(Error{ErrorCode::kRequestTimeout,
                 "the body came too slowly: " + std::to_string(body_received()) + " bytes after " +
                     ms_text(static_cast<std::uint32_t>(
                         std::chrono::duration_cast<std::chrono::milliseconds>(now - body_start_).count())) +
                     "; send at least " + std::to_string(rate) + " bytes/s (server.body_min_bytes_per_s) after " +
                     ms_text(env_.options.body_timeout_ms) + " (server.body_timeout_ms)"});
      return;
    }
    case Phase::kAwaiting: {
      env_.counters.sync_timeouts.fetch_add(1, std::memory_order_relaxed);
      deferred_->set_waker({});
      deferred_.reset();
      const Error timeout{ErrorCode::kDeliveryTimeout,
                          "Kafka did not confirm the record within " + ms_text(deferred_timeout_ms_) +
                              "; it may still be delivered, so retry only if duplicates are acceptable"};
      answer(render_deferred_error_ != nullptr ? render_deferred_error_(timeout) : error_response(timeout));
      process();  // the 504 is written on the write clock, never dropped
      return;
    }
    case Phase::kStreaming:
      close();  // neither the client nor Kafka moved within the clock: the answer stays unfinished
      return;
    case Phase::kWriting:
      env_.counters.write_timeouts.fetch_add(1, std::memory_order_relaxed);
      close();
      return;
    case Phase::kLingering:
      close();
      return;
    case Phase::kClosed:
      return;
  }
}

void Connection::release_body() {
  if (body_reserved_ > 0) {
    env_.budget.release(body_reserved_);
    body_reserved_ = 0;
  }
  // A large body's memory goes back; a small one's is kept for the next request.
  if (body_.capacity() > kInitialBuffer && !(reading_ && reading_body_)) std::string().swap(body_);
}

void Connection::close() {
  if (phase_ == Phase::kClosed) return;
  auto keep = shared_from_this();  // the registry may hold the last reference
  phase_ = Phase::kClosed;
  ++read_seq_;
  error_code ignored;
  transport_.socket().close(ignored);
  if (deferred_) {
    deferred_->set_waker({});
    deferred_.reset();
  }
  if (stream_output_) {
    stream_output_->set_waker({});
    stream_output_.reset();
  }
  stream_.reset();
  release_body();
  env_.active_requests.fetch_sub(answers_in_out_ + (in_request_ ? 1 : 0), std::memory_order_relaxed);
  answers_in_out_ = 0;
  in_request_ = false;
  if (counted_) env_.caps.release(client_);
  counted_ = false;
  registry_.erase(self_);
}

}  // namespace intake::http
