// ZnodeTreeWatcher: keeps the ZooKeeper source's mirror (sources/znode_tree.h) current through
// reads and watches on a ZooKeeperSession, and reports it whenever it is complete. Internal to
// sources/; the rules it follows are those of sources/zookeeper.h:
//  - every znode carries a data and a child watch, re-armed by the read each event causes; a
//    missing root carries an exists watch;
//  - a tree is reported only when no read is outstanding (a deletion, which needs no read,
//    sends a barrier), at most once per report_interval;
//  - (re)connected: a full load as a new epoch, replies of older epochs ignored; a read that
//    fails otherwise is retried with Backoff and holds back reports until it succeeds.
//
// REQUIRES: the thread running the session's io_context calls every member.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/updates.h"
#include "sources/watch_support.h"
#include "sources/znode_tree.h"
#include "sources/zookeeper_options.h"
#include "sources/zookeeper_session.h"

namespace intake::sources {

class ZnodeTreeWatcher final : public ZooKeeperSession::Listener {
 public:
  // `options.root` must be normalized (normalize_znode_root).
  ZnodeTreeWatcher(boost::asio::io_context& io, const ZooKeeperOptions& options, ZooKeeperSession& session,
                   WatchStats& stats, config::UpdateCallbacks& callbacks, ZooKeeperSession::ErrorReporter report_error);

  void on_connected() override { load(); }
  void on_disconnected() override { reload_needed_ = true; }
  void on_closed() override;
  void on_node_event(int type, const std::string& path) override;
  void on_read_reply(const ZnodeRead& read, ZnodeReply& reply) override;

 private:
  void load();
  void read_node(const std::string& relative);
  void read(const std::string& relative, ZnodeReadKind kind);
  void gone(const std::string& relative);
  void failed(const std::string& relative, ZnodeReadKind kind, int rc);
  std::chrono::milliseconds arm_retry();
  void retry();
  void maybe_report();
  void report();

  const ZooKeeperOptions& options_;
  ZooKeeperSession& session_;
  WatchStats& stats_;
  config::UpdateCallbacks& callbacks_;
  ZooKeeperSession::ErrorReporter report_error_;
  boost::asio::steady_timer retry_timer_, report_timer_;

  ZnodeTree tree_;
  std::uint64_t epoch_ = 0;                                     // which load; bumped per full read
  std::size_t outstanding_ = 0;                                 // reads of this epoch not answered yet
  std::vector<std::pair<std::string, ZnodeReadKind>> retries_;  // failed reads waiting for retry_timer_
  bool reload_needed_ = true;                                   // a full load must run before a report
  bool root_watch_pending_ = false;                             // an exists read of the root is out
  bool changed_ = false;                                        // a reply was applied since the last report
  std::chrono::steady_clock::time_point last_report_{};
  bool report_timer_armed_ = false;
  std::chrono::steady_clock::time_point retry_due_{};
  Backoff read_backoff_;
};

}  // namespace intake::sources
