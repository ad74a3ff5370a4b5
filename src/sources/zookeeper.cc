#include "sources/zookeeper.h"

#include <spdlog/spdlog.h>
#include <zookeeper/zookeeper.h>

#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "sources/znode_tree.h"

namespace intake::sources {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kConnectGrace{1'000};  // quiet time before "not connected" is reported

// What a request reads. A barrier reads nothing useful: its answer comes after every event the
// server sent before it (one connection, in order), so while one is out no report is made.
enum class ReadKind { data, children, root_exists, barrier };

ZnodeStat to_znode_stat(const Stat* stat) {
  return stat == nullptr ? ZnodeStat{} : ZnodeStat{stat->mzxid, stat->pzxid, stat->cversion};
}

// Failures of the connection or session rather than of the read: the whole subtree is read
// again once a session is connected (the session event that follows reports the problem).
bool is_connection_error(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED || rc == ZSESSIONMOVED ||
         rc == ZCLOSING || rc == ZINVALIDSTATE;
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

// Owns the session and the mirror; every member below the C callbacks runs on thread_.
class ZooKeeperSource::Watcher {
 public:
  Watcher(const ZooKeeperOptions& settings, WatchStats& stats, config::UpdateCallbacks& callbacks)
      : settings_(settings),
        stats_(stats),
        callbacks_(callbacks),
        work_(io_.get_executor()),
        retry_timer_(io_),
        report_timer_(io_),
        watchdog_timer_(io_),
        reopen_timer_(io_),
        tree_(settings.root) {}

  ~Watcher() { stop(); }

  void start() {
    asio::post(io_, [this] { open_session(); });
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // thread_ has ended, so the handle is ours. Replies the close produces are posted to the
    // stopped io_ and destroyed with it, unrun.
    close_session();
  }

  std::optional<ZooKeeperSessionId> session() const {
    std::lock_guard lock(session_mutex_);
    return session_;
  }

 private:
  // The context of every watch: which handle (generation) an event belongs to.
  struct Handle {
    Watcher* watcher;
    std::uint64_t generation;
  };
  // The context of every read; owned by the C client until its completion runs.
  struct Request {
    Watcher* watcher;
    std::uint64_t generation;
    std::uint64_t epoch;
    std::string relative;
    ReadKind kind;
  };
  struct Reply {
    int rc = ZOK;
    std::string data;
    std::vector<std::string> children;
    ZnodeStat stat;
  };

  // --- C client callbacks, on its completion thread (or the thread closing the handle): they
  // copy what the client lends them and post it to thread_.

  static void on_client_event(zhandle_t*, int type, int state, const char* path, void* context) {
    auto* handle = static_cast<Handle*>(context);
    if (handle == nullptr) return;
    Watcher* self = handle->watcher;
    const std::uint64_t generation = handle->generation;
    if (type == ZOO_SESSION_EVENT) {
      asio::post(self->io_, [self, generation, state] { self->on_session_event(generation, state); });
    } else {
      asio::post(self->io_, [self, generation, type, path = std::string(path == nullptr ? "" : path)] {
        self->on_node_event(generation, type, path);
      });
    }
  }

  static void on_data_reply(int rc, const char* value, int length, const Stat* stat, const void* data) {
    Reply reply;
    reply.rc = rc;
    if (rc == ZOK && value != nullptr && length > 0) reply.data.assign(value, static_cast<std::size_t>(length));
    reply.stat = to_znode_stat(stat);
    post_reply(data, std::move(reply));
  }

  static void on_children_reply(int rc, const String_vector* names, const Stat* stat, const void* data) {
    Reply reply;
    reply.rc = rc;
    if (rc == ZOK && names != nullptr) reply.children.assign(names->data, names->data + names->count);
    reply.stat = to_znode_stat(stat);
    post_reply(data, std::move(reply));
  }

  static void on_exists_reply(int rc, const Stat* stat, const void* data) {
    Reply reply;
    reply.rc = rc;
    reply.stat = to_znode_stat(stat);
    post_reply(data, std::move(reply));
  }

  static void post_reply(const void* data, Reply reply) {
    std::unique_ptr<Request> request(static_cast<Request*>(const_cast<void*>(data)));
    asio::io_context& io = request->watcher->io_;
    asio::post(io, [request = std::move(request), reply = std::move(reply)]() mutable {
      request->watcher->on_reply(*request, reply);
    });
  }

  // --- thread_ only.

  void open_session() {
    ++generation_;
    handle_ = std::make_unique<Handle>(Handle{this, generation_});
    zh_ = zookeeper_init2(settings_.hosts.c_str(), &on_client_event, static_cast<int>(settings_.session_timeout.count()),
                          nullptr, handle_.get(), 0, &log_client_line);
    if (zh_ == nullptr) {
      const int problem = errno;
      handle_.reset();
      const milliseconds delay = session_backoff_.next();
      report_error("cannot create a ZooKeeper handle for '" + settings_.hosts + "': " + std::strerror(problem) +
                   " (retrying in " + std::to_string(delay.count()) + " ms)");
      reopen_after(delay);
      return;
    }
    disconnected_since_ = Clock::now();
    arm_watchdog(kConnectGrace);
  }

  void close_session() {
    if (zh_ != nullptr) zookeeper_close(zh_);
    zh_ = nullptr;
    handle_.reset();
    connected_ = false;
    outstanding_ = 0;
    retries_.clear();
    reload_needed_ = true;  // nothing is reported until a new session has loaded the tree
    std::lock_guard lock(session_mutex_);
    session_.reset();
  }

  void reopen_after(milliseconds delay) {
    reopen_timer_.expires_after(delay);
    reopen_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) open_session();
    });
  }

  void on_session_event(std::uint64_t generation, int state) {
    if (generation != generation_ || zh_ == nullptr) return;
    if (state == ZOO_CONNECTED_STATE) {
      connected_ = true;
      connect_backoff_.reset();
      session_backoff_.reset();
      if (const clientid_t* id = zoo_client_id(zh_); id != nullptr) {
        std::lock_guard lock(session_mutex_);
        session_ = ZooKeeperSessionId{id->client_id, std::string(id->passwd, sizeof(id->passwd))};
      }
      // Also after a reconnect within the same session: reads that failed with the
      // connection must be redone, and a full read needs no bookkeeping of which.
      load();
    } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      const std::string what = state == ZOO_EXPIRED_SESSION_STATE ? "expired" : "failed authentication";
      const std::string id = session_ ? hex(session_->id) : "?";
      close_session();
      const milliseconds delay = session_backoff_.next();
      report_error("ZooKeeper session " + id + " " + what + "; opening a new session in " +
                   std::to_string(delay.count()) + " ms and reading " + settings_.root + " again");
      reopen_after(delay);
    } else if (connected_) {  // CONNECTING (or NOTCONNECTED): the client reconnects by itself
      connected_ = false;
      reload_needed_ = true;
      disconnected_since_ = Clock::now();
      report_error("lost the connection to ZooKeeper at '" + settings_.hosts +
                   "'; reconnecting, the last tree stays in force");
      arm_watchdog(kConnectGrace);
    }
  }

  void on_node_event(std::uint64_t generation, int type, const std::string& path) {
    if (generation != generation_ || zh_ == nullptr) return;
    const std::optional<std::string> relative = tree_.relative(path);
    if (!relative) return;
    if (relative->empty() && !tree_.contains("")) {  // the root's exists watch
      if (type == ZOO_CREATED_EVENT) {
        tree_.add("");
        read("", ReadKind::children);
      }
      return;
    }
    // Events for znodes no longer (or not yet) in the mirror: whoever adds them reads them.
    if (!tree_.contains(*relative)) return;
    if (type == ZOO_DELETED_EVENT) {
      // The parent's child watch fires in the same transaction; its listing picks up a
      // re-created node. The root goes back to an exists watch. Every other event makes a
      // read; this one is applied at once, so a barrier keeps the report until the other
      // events of its transaction (a multi-op deleting several keys) have arrived too.
      gone(*relative);
      changed_ = true;
      if (outstanding_ == 0) read(*relative, ReadKind::barrier);
      if (outstanding_ == 0) maybe_report();  // the barrier could not be sent
    } else if (type == ZOO_CHANGED_EVENT) {
      if (!relative->empty()) read(*relative, ReadKind::data);
    } else if (type == ZOO_CHILD_EVENT) {
      read(*relative, ReadKind::children);
    } else {  // NOTWATCHING: the server dropped a watch; read the node again to re-arm both
      read_node(*relative);
    }
  }

  void on_reply(const Request& request, Reply& reply) {
    // A reply of a closed handle or of an abandoned load: the load in progress covers it.
    if (request.generation != generation_ || request.epoch != epoch_) return;
    --outstanding_;
    if (request.kind == ReadKind::root_exists) root_watch_pending_ = false;
    if (reply.rc == ZOK) {
      changed_ = true;
      switch (request.kind) {
        case ReadKind::data:
          tree_.set_data(request.relative, std::move(reply.data), reply.stat);
          break;
        case ReadKind::children:
          for (const std::string& child : tree_.set_children(request.relative, std::move(reply.children), reply.stat)) {
            read_node(child);
          }
          break;
        case ReadKind::root_exists:
          if (!tree_.contains("")) {
            tree_.add("");
            read("", ReadKind::children);
          }
          break;
        case ReadKind::barrier:
          break;
      }
    } else if (reply.rc == ZNONODE) {
      changed_ = true;
      // For root_exists the watch is now set: the root is loaded when it appears.
      if (request.kind == ReadKind::data || request.kind == ReadKind::children) gone(request.relative);
    } else {
      failed(request.relative, request.kind, reply.rc);
    }
    if (outstanding_ == 0) maybe_report();
  }

  // A full read of the subtree from the root down, as a new epoch: replies of earlier reads
  // are ignored from here on, and nothing is reported until this load has completed.
  void load() {
    ++epoch_;
    outstanding_ = 0;
    retries_.clear();
    reload_needed_ = false;
    root_watch_pending_ = false;
    changed_ = true;
    tree_.clear();
    tree_.add("");
    read("", ReadKind::children);
  }

  // The root's data is never used: only its children (and their watch) are read.
  void read_node(const std::string& relative) {
    if (!relative.empty()) read(relative, ReadKind::data);
    read(relative, ReadKind::children);
  }

  void read(const std::string& relative, ReadKind kind) {
    if (zh_ == nullptr) return;
    if (kind == ReadKind::root_exists && root_watch_pending_) return;
    auto request = std::make_unique<Request>(Request{this, generation_, epoch_, relative, kind});
    const std::string path = tree_.absolute(relative);
    int rc = ZOK;
    switch (kind) {
      case ReadKind::data:
        rc = zoo_awget(zh_, path.c_str(), &on_client_event, handle_.get(), &on_data_reply, request.get());
        break;
      case ReadKind::children:
        rc = zoo_awget_children2(zh_, path.c_str(), &on_client_event, handle_.get(), &on_children_reply,
                                 request.get());
        break;
      case ReadKind::root_exists:
        rc = zoo_awexists(zh_, path.c_str(), &on_client_event, handle_.get(), &on_exists_reply, request.get());
        break;
      case ReadKind::barrier:
        rc = zoo_aexists(zh_, path.c_str(), 0, &on_exists_reply, request.get());
        break;
    }
    stats_.count_request();
    if (rc != ZOK) {  // not queued: the completion will not run
      failed(relative, kind, rc);
      return;
    }
    request.release();
    ++outstanding_;
    if (kind == ReadKind::root_exists) root_watch_pending_ = true;
  }

  // The znode is gone: forget it and its subtree; a gone root gets an exists watch.
  void gone(const std::string& relative) {
    if (!relative.empty()) {
      tree_.remove(relative);
    } else if (tree_.contains("")) {
      tree_.clear();
      read("", ReadKind::root_exists);
    }
  }

  void failed(const std::string& relative, ReadKind kind, int rc) {
    if (kind == ReadKind::barrier) {
      if (is_connection_error(rc)) reload_needed_ = true;  // the session event follows
      return;
    }
    if (is_connection_error(rc)) {
      // The session event that follows reports it and, once connected, reloads. The timer is
      // a fallback in case the connection stays up (e.g. one request timed out).
      reload_needed_ = true;
      arm_retry();
      return;
    }
    retries_.emplace_back(relative, kind);
    const milliseconds delay = arm_retry();
    report_error("reading " + tree_.absolute(relative) + " failed: " + zerror(rc) + " (retrying in " +
                 std::to_string(delay.count()) + " ms; the last tree stays in force)");
  }

  // Returns the delay until the retry timer fires (armed now or earlier).
  milliseconds arm_retry() {
    if (retry_due_ > Clock::now()) {
      return std::chrono::duration_cast<milliseconds>(retry_due_ - Clock::now());
    }
    const milliseconds delay = read_backoff_.next();
    retry_due_ = Clock::now() + delay;
    retry_timer_.expires_at(retry_due_);
    retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) retry();
    });
    return delay;
  }

  void retry() {
    retry_due_ = {};
    if (zh_ == nullptr || !connected_) return;  // CONNECTED will load
    if (reload_needed_) {
      load();
      return;
    }
    std::vector<std::pair<std::string, ReadKind>> due;
    due.swap(retries_);
    for (const auto& [relative, kind] : due) {
      if (kind == ReadKind::root_exists) {
        if (!tree_.contains("")) read("", kind);
      } else if (tree_.contains(relative)) {
        read(relative, kind);
      }
    }
    if (outstanding_ == 0) maybe_report();
  }

  // Reports when every read has been answered, at most once per report_interval: a change
  // after a quiet period at once, a burst as one report at the end of the interval.
  void maybe_report() {
    if (outstanding_ > 0 || !retries_.empty() || reload_needed_ || !changed_ || zh_ == nullptr) return;
    const Clock::time_point due = last_report_ + settings_.report_interval;
    if (Clock::now() >= due) {
      report();
      return;
    }
    if (report_timer_armed_) return;
    report_timer_armed_ = true;
    report_timer_.expires_at(due);
    report_timer_.async_wait([this](const boost::system::error_code& ec) {
      report_timer_armed_ = false;
      if (!ec) maybe_report();
    });
  }

  void report() {
    changed_ = false;
    last_report_ = Clock::now();
    config::RawTree tree = tree_.assemble();
    tree.source = "zookeeper";
    stats_.count_snapshot(tree.revision);
    read_backoff_.reset();
    callbacks_.on_tree(std::move(tree));
  }

  void arm_watchdog(milliseconds delay) {
    watchdog_timer_.expires_after(delay);
    watchdog_timer_.async_wait([this, generation = generation_](const boost::system::error_code& ec) {
      if (ec || generation != generation_ || connected_ || zh_ == nullptr) return;
      const milliseconds next = connect_backoff_.next();
      const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - disconnected_since_);
      // Past twice the session timeout the session is gone anyway. A server that restarted
      // with fresh data refuses this handle forever (it has seen a newer zxid than the server
      // has), so start over with a new handle, which any server accepts.
      if (waited > 2 * settings_.session_timeout) {
        close_session();
        report_error("not connected to ZooKeeper at '" + settings_.hosts + "' for " + std::to_string(waited.count()) +
                     " ms; opening a new session (the last tree stays in force)");
        reopen_after(next);
        return;
      }
      report_error("not connected to ZooKeeper at '" + settings_.hosts + "' for " + std::to_string(waited.count()) +
                   " ms; the client keeps trying (the last tree stays in force)");
      arm_watchdog(next);
    });
  }

  void report_error(const std::string& message) {
    stats_.count_error();
    callbacks_.on_source_error("zookeeper", message);
  }

  const ZooKeeperOptions& settings_;
  WatchStats& stats_;
  config::UpdateCallbacks& callbacks_;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer retry_timer_, report_timer_, watchdog_timer_, reopen_timer_;
  std::thread thread_;

  zhandle_t* zh_ = nullptr;
  std::unique_ptr<Handle> handle_;  // lives as long as zh_: every callback's context
  std::uint64_t generation_ = 0;    // which handle; bumped per zookeeper_init
  std::uint64_t epoch_ = 0;         // which load; bumped per full read
  bool connected_ = false;
  Clock::time_point disconnected_since_{};

  ZnodeTree tree_;
  std::size_t outstanding_ = 0;                            // reads of this epoch not answered yet
  std::vector<std::pair<std::string, ReadKind>> retries_;  // failed reads waiting for retry_timer_
  bool reload_needed_ = true;                              // a full load must run before a report
  bool root_watch_pending_ = false;                        // an exists read of the root is out
  bool changed_ = false;                                   // a reply was applied since the last report
  Clock::time_point last_report_{};
  bool report_timer_armed_ = false;
  Clock::time_point retry_due_{};
  Backoff read_backoff_, session_backoff_, connect_backoff_;

  mutable std::mutex session_mutex_;
  std::optional<ZooKeeperSessionId> session_;
};

ZooKeeperSource::ZooKeeperSource(ZooKeeperOptions options) : options_(std::move(options)) {
  options_.root = normalize_znode_root(options_.root);
}

ZooKeeperSource::~ZooKeeperSource() { stop(); }

void ZooKeeperSource::start(boost::asio::io_context& /*control*/, config::UpdateCallbacks& callbacks) {
  watcher_ = std::make_unique<Watcher>(options_, stats_, callbacks);
  watcher_->start();
}

void ZooKeeperSource::stop() {
  if (watcher_) watcher_->stop();
}

std::optional<ZooKeeperSessionId> ZooKeeperSource::session() const {
  return watcher_ ? watcher_->session() : std::nullopt;
}

}  // namespace intake::sources
