#include "sources/znode_tree_watcher.h"

#include <optional>

namespace intake::sources {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

ZnodeTreeWatcher::ZnodeTreeWatcher(boost::asio::io_context& io, const ZooKeeperOptions& options,
                                   ZooKeeperSession& session, WatchStats& stats, config::UpdateCallbacks& callbacks,
                                   ZooKeeperSession::ErrorReporter report_error)
    : options_(options),
      session_(session),
      stats_(stats),
      callbacks_(callbacks),
      report_error_(std::move(report_error)),
      retry_timer_(io),
      report_timer_(io),
      tree_(options.root) {}

void ZnodeTreeWatcher::on_closed() {
  outstanding_ = 0;
  retries_.clear();
  reload_needed_ = true;  // nothing is reported until a new session has loaded the tree
}

void ZnodeTreeWatcher::on_node_event(int type, const std::string& path) {
  const std::optional<std::string> relative = tree_.relative(path);
  if (!relative) return;
  if (relative->empty() && !tree_.contains("")) {  // the root's exists watch
    if (type == ZOO_CREATED_EVENT) {
      tree_.add("");
      read("", ZnodeReadKind::children);
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
    if (outstanding_ == 0) read(*relative, ZnodeReadKind::barrier);
    if (outstanding_ == 0) maybe_report();  // the barrier could not be sent
  } else if (type == ZOO_CHANGED_EVENT) {
    if (!relative->empty()) read(*relative, ZnodeReadKind::data);
  } else if (type == ZOO_CHILD_EVENT) {
    read(*relative, ZnodeReadKind::children);
  } else {  // NOTWATCHING: the server dropped a watch; read the node again to re-arm both
    read_node(*relative);
  }
}

void ZnodeTreeWatcher::on_read_reply(const ZnodeRead& request, ZnodeReply& reply) {
  // A reply of an abandoned load: the load in progress covers it.
  if (request.epoch != epoch_) return;
  --outstanding_;
  if (request.kind == ZnodeReadKind::root_exists) root_watch_pending_ = false;
  if (reply.rc == ZOK) {
    changed_ = true;
    switch (request.kind) {
      case ZnodeReadKind::data:
        tree_.set_data(request.relative, std::move(reply.data), reply.stat);
        break;
      case ZnodeReadKind::children:
        for (const std::string& child : tree_.set_children(request.relative, std::move(reply.children), reply.stat)) {
          read_node(child);
        }
        break;
      case ZnodeReadKind::root_exists:
        if (!tree_.contains("")) {
          tree_.add("");
          read("", ZnodeReadKind::children);
        }
        break;
      case ZnodeReadKind::barrier:
        break;
    }
  } else if (reply.rc == ZNONODE) {
    changed_ = true;
    // For root_exists the watch is now set: the root is loaded when it appears.
    if (request.kind == ZnodeReadKind::data || request.kind == ZnodeReadKind::children) gone(request.relative);
  } else {
    failed(request.relative, request.kind, reply.rc);
  }
  if (outstanding_ == 0) maybe_report();
}

// A full read of the subtree from the root down, as a new epoch: replies of earlier reads
// are ignored from here on, and nothing is reported until this load has completed.
void ZnodeTreeWatcher::load() {
  ++epoch_;
  outstanding_ = 0;
  retries_.clear();
  reload_needed_ = false;
  root_watch_pending_ = false;
  changed_ = true;
  tree_.clear();
  tree_.add("");
  read("", ZnodeReadKind::children);
}

// The root's data is never used: only its children (and their watch) are read.
void ZnodeTreeWatcher::read_node(const std::string& relative) {
  if (!relative.empty()) read(relative, ZnodeReadKind::data);
  read(relative, ZnodeReadKind::children);
}

void ZnodeTreeWatcher::read(const std::string& relative, ZnodeReadKind kind) {
  if (!session_.is_open()) return;
  if (kind == ZnodeReadKind::root_exists && root_watch_pending_) return;
  const int rc = session_.read(ZnodeRead{epoch_, relative, kind}, tree_.absolute(relative));
  stats_.count_request();
  if (rc != ZOK) {  // not queued: the completion will not run
    failed(relative, kind, rc);
    return;
  }
  ++outstanding_;
  if (kind == ZnodeReadKind::root_exists) root_watch_pending_ = true;
}

// The znode is gone: forget it and its subtree; a gone root gets an exists watch.
void ZnodeTreeWatcher::gone(const std::string& relative) {
  if (!relative.empty()) {
    tree_.remove(relative);
  } else if (tree_.contains("")) {
    tree_.clear();
    read("", ZnodeReadKind::root_exists);
  }
}

void ZnodeTreeWatcher::failed(const std::string& relative, ZnodeReadKind kind, int rc) {
  if (kind == ZnodeReadKind::barrier) {
    if (is_zookeeper_connection_error(rc)) reload_needed_ = true;  // the session event follows
    return;
  }
  if (is_zookeeper_connection_error(rc)) {
    // The session event that follows reports it and, once connected, reloads. The timer is
    // a fallback in case the connection stays up (e.g. one request timed out).
    reload_needed_ = true;
    arm_retry();
    return;
  }
  retries_.emplace_back(relative, kind);
  const milliseconds delay = arm_retry();
  report_error_("reading " + tree_.absolute(relative) + " failed: " + zerror(rc) + " (retrying in " +
                std::to_string(delay.count()) + " ms; the last tree stays in force)");
}

// Returns the delay until the retry timer fires (armed now or earlier).
milliseconds ZnodeTreeWatcher::arm_retry() {
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

void ZnodeTreeWatcher::retry() {
  retry_due_ = {};
  if (!session_.is_open() || !session_.connected()) return;  // CONNECTED will load
  if (reload_needed_) {
    load();
    return;
  }
  std::vector<std::pair<std::string, ZnodeReadKind>> due;
  due.swap(retries_);
  for (const auto& [relative, kind] : due) {
    if (kind == ZnodeReadKind::root_exists) {
      if (!tree_.contains("")) read("", kind);
    } else if (tree_.contains(relative)) {
      read(relative, kind);
    }
  }
  if (outstanding_ == 0) maybe_report();
}

// Reports when every read has been answered, at most once per report_interval: a change
// after a quiet period at once, a burst as one report at the end of the interval.
void ZnodeTreeWatcher::maybe_report() {
  if (outstanding_ > 0 || !retries_.empty() || reload_needed_ || !changed_ || !session_.is_open()) return;
  const Clock::time_point due = last_report_ + options_.report_interval;
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

void ZnodeTreeWatcher::report() {
  changed_ = false;
  last_report_ = Clock::now();
  config::RawTree tree = tree_.assemble();
  tree.source = "zookeeper";
  stats_.count_snapshot(tree.revision);
  read_backoff_.reset();
  callbacks_.on_tree(std::move(tree));
}

}  // namespace intake::sources
