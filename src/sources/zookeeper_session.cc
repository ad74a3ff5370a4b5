#include "sources/zookeeper_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

namespace intake::sources {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kConnectGrace{1'000};  // quiet time before "not connected" is reported

ZnodeStat to_znode_stat(const Stat* stat) {
  return stat == nullptr ? ZnodeStat{} : ZnodeStat{stat->mzxid, stat->pzxid, stat->cversion};
}

std::string hex(std::int64_t value) {
  char text[2 + 16 + 1];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

// The C client's own log lines ("...:ZOO_INFO@func@line: message\n"): its connection chatter
// repeats on every reconnect attempt, so it goes to debug; what an operator needs is reported
// through on_source_error with backoff.
void log_client_line(const char* message) {
  std::string_view text(message == nullptr ? "" : message);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  spdlog::debug("zookeeper client: {}", text);
}

}  // namespace

bool is_zookeeper_connection_error(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED || rc == ZSESSIONMOVED ||
         rc == ZCLOSING || rc == ZINVALIDSTATE;
}

ZooKeeperSession::ZooKeeperSession(asio::io_context& io, const ZooKeeperOptions& options, ErrorReporter report_error)
    : io_(io), options_(options), report_error_(std::move(report_error)), watchdog_timer_(io), reopen_timer_(io) {}

void ZooKeeperSession::start(Listener& listener) {
  listener_ = &listener;
  asio::post(io_, [this] { open(); });
}

std::optional<ZooKeeperSessionId> ZooKeeperSession::id() const {
  std::lock_guard lock(id_mutex_);
  return id_;
}

// --- C client callbacks, on its completion thread (or the thread closing the handle): they
// copy what the client lends them and post it to io_.

void ZooKeeperSession::on_client_event(zhandle_t*, int type, int state, const char* path, void* context) {
  auto* handle = static_cast<Handle*>(context);
  if (handle == nullptr) return;
  ZooKeeperSession* self = handle->session;
  const std::uint64_t generation = handle->generation;
  if (type == ZOO_SESSION_EVENT) {
    asio::post(self->io_, [self, generation, state] { self->on_session_event(generation, state); });
  } else {
    asio::post(self->io_, [self, generation, type, path = std::string(path == nullptr ? "" : path)] {
      self->on_node_event(generation, type, path);
    });
  }
}

void ZooKeeperSession::on_data_reply(int rc, const char* value, int length, const Stat* stat, const void* data) {
  ZnodeReply reply;
  reply.rc = rc;
  if (rc == ZOK && value != nullptr && length > 0) reply.data.assign(value, static_cast<std::size_t>(length));
  reply.stat = to_znode_stat(stat);
  post_reply(data, std::move(reply));
}

void ZooKeeperSession::on_children_reply(int rc, const String_vector* names, const Stat* stat, const void* data) {
  ZnodeReply reply;
  reply.rc = rc;
  if (rc == ZOK && names != nullptr) reply.children.assign(names->data, names->data + names->count);
  reply.stat = to_znode_stat(stat);
  post_reply(data, std::move(reply));
}

void ZooKeeperSession::on_exists_reply(int rc, const Stat* stat, const void* data) {
  ZnodeReply reply;
  reply.rc = rc;
  reply.stat = to_znode_stat(stat);
  post_reply(data, std::move(reply));
}

void ZooKeeperSession::post_reply(const void* data, ZnodeReply reply) {
  std::unique_ptr<Request> request(static_cast<Request*>(const_cast<void*>(data)));
  asio::io_context& io = request->session->io_;
  asio::post(io, [request = std::move(request), reply = std::move(reply)]() mutable {
    request->session->on_reply(*request, reply);
  });
}

// --- The thread running io_ only.

void ZooKeeperSession::open() {
  ++generation_;
  handle_ = std::make_unique<Handle>(Handle{this, generation_});
  zh_ = zookeeper_init2(options_.hosts.c_str(), &on_client_event, static_cast<int>(options_.session_timeout.count()),
                        nullptr, handle_.get(), 0, &log_client_line);
  if (zh_ == nullptr) {
    const int problem = errno;
    handle_.reset();
    const milliseconds delay = session_backoff_.next();
    report_error_("cannot create a ZooKeeper handle for '" + options_.hosts + "': " + std::strerror(problem) +
                  " (retrying in " + std::to_string(delay.count()) + " ms)");
    reopen_after(delay);
    return;
  }
  disconnected_since_ = Clock::now();
  arm_watchdog(kConnectGrace);
}

void ZooKeeperSession::close() {
  if (zh_ != nullptr) zookeeper_close(zh_);
  zh_ = nullptr;
  handle_.reset();
  connected_ = false;
  if (listener_ != nullptr) listener_->on_closed();
  std::lock_guard lock(id_mutex_);
  id_.reset();
}

void ZooKeeperSession::reopen_after(milliseconds delay) {
  reopen_timer_.expires_after(delay);
  reopen_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) open();
  });
}

int ZooKeeperSession::read(ZnodeRead read, const std::string& path) {
  auto request = std::make_unique<Request>(Request{this, generation_, std::move(read)});
  int rc = ZOK;
  switch (request->read.kind) {
    case ZnodeReadKind::data:
      rc = zoo_awget(zh_, path.c_str(), &on_client_event, handle_.get(), &on_data_reply, request.get());
      break;
    case ZnodeReadKind::children:
      rc = zoo_awget_children2(zh_, path.c_str(), &on_client_event, handle_.get(), &on_children_reply, request.get());
      break;
    case ZnodeReadKind::root_exists:
      rc = zoo_awexists(zh_, path.c_str(), &on_client_event, handle_.get(), &on_exists_reply, request.get());
      break;
    case ZnodeReadKind::barrier:
      rc = zoo_aexists(zh_, path.c_str(), 0, &on_exists_reply, request.get());
      break;
  }
  if (rc == ZOK) static_cast<void>(request.release());  // queued: its completion owns it
  return rc;
}

void ZooKeeperSession::on_session_event(std::uint64_t generation, int state) {
  if (generation != generation_ || zh_ == nullptr) return;
  if (state == ZOO_CONNECTED_STATE) {
    connected_ = true;
    connect_backoff_.reset();
    session_backoff_.reset();
    if (const clientid_t* id = zoo_client_id(zh_); id != nullptr) {
      std::lock_guard lock(id_mutex_);
      id_ = ZooKeeperSessionId{id->client_id, std::string(id->passwd, sizeof(id->passwd))};
    }
    // Also after a reconnect within the same session: reads that failed with the
    // connection must be redone, and a full read needs no bookkeeping of which.
    listener_->on_connected();
  } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    const std::string what = state == ZOO_EXPIRED_SESSION_STATE ? "expired" : "failed authentication";
    const std::string id = id_ ? hex(id_->id) : "?";
    close();
    const milliseconds delay = session_backoff_.next();
    report_error_("ZooKeeper session " + id + " " + what + "; opening a new session in " +
                  std::to_string(delay.count()) + " ms and reading " + options_.root + " again");
    reopen_after(delay);
  } else if (connected_) {  // CONNECTING (or NOTCONNECTED): the client reconnects by itself
    connected_ = false;
    listener_->on_disconnected();
    disconnected_since_ = Clock::now();
    report_error_("lost the connection to ZooKeeper at '" + options_.hosts +
                  "'; reconnecting, the last tree stays in force");
    arm_watchdog(kConnectGrace);
  }
}

void ZooKeeperSession::on_node_event(std::uint64_t generation, int type, const std::string& path) {
  if (generation != generation_ || zh_ == nullptr) return;
  listener_->on_node_event(type, path);
}

void ZooKeeperSession::on_reply(const Request& request, ZnodeReply& reply) {
  // A reply of a closed handle: the load of the next one covers it.
  if (request.generation != generation_) return;
  listener_->on_read_reply(request.read, reply);
}

void ZooKeeperSession::arm_watchdog(milliseconds delay) {
  watchdog_timer_.expires_after(delay);
  watchdog_timer_.async_wait([this, generation = generation_](const boost::system::error_code& ec) {
    if (ec || generation != generation_ || connected_ || zh_ == nullptr) return;
    const milliseconds next = connect_backoff_.next();
    const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - disconnected_since_);
    // Past twice the session timeout the session is gone anyway. A server that restarted
    // with fresh data refuses this handle forever (it has seen a newer zxid than the server
    // has), so start over with a new handle, which any server accepts.
    if (waited > 2 * options_.session_timeout) {
      close();
      report_error_("not connected to ZooKeeper at '" + options_.hosts + "' for " + std::to_string(waited.count()) +
                    " ms; opening a new session (the last tree stays in force)");
      reopen_after(next);
      return;
    }
    report_error_("not connected to ZooKeeper at '" + options_.hosts + "' for " + std::to_string(waited.count()) +
                  " ms; the client keeps trying (the last tree stays in force)");
    arm_watchdog(next);
  });
}

}  // namespace intake::sources
