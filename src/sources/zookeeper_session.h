// ZooKeeperSession: one ZooKeeper handle at a time for the ZooKeeper source. Internal to
// sources/. It opens the handle, follows its session state, replaces it when the session
// expires or stays disconnected for too long, and carries reads and watch events between the
// C client's threads and the source's own thread.
//
//  - Connected (also after a reconnect within the same session): Listener::on_connected, so the
//    subtree is read again.
//  - Connection lost: reported; the client reconnects by itself (Listener::on_disconnected).
//  - Not connected after 1 s: reported, then again after each backoff step; past twice the
//    session timeout the handle is closed and a new one opened, since a server that restarted
//    with fresh data refuses the old one forever.
//  - Expired or failed authentication: closed (Listener::on_closed), reported, and a new
//    handle opened after a backoff.
//
// Threads: the C client's callbacks only copy what they got and post it to `io`; everything
// else runs on the thread running `io`, which owns all state. REQUIRES: one thread runs `io`.
#pragma once

#include <zookeeper/zookeeper.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sources/watch_support.h"
#include "sources/znode_tree.h"
#include "sources/zookeeper.h"
#include "sources/zookeeper_options.h"

namespace intake::sources {

// What a read asks for. A barrier reads nothing useful: its answer comes after every event the
// server sent before it (one connection, in order), so while one is out no report is made.
enum class ZnodeReadKind { data, children, root_exists, barrier };

struct ZnodeRead {
  std::uint64_t epoch = 0;  // the reader's load the read belongs to
  std::string relative;     // below the root; "" is the root itself
  ZnodeReadKind kind = ZnodeReadKind::data;
};

struct ZnodeReply {
  int rc = ZOK;
  std::string data;
  std::vector<std::string> children;
  ZnodeStat stat;
};

class ZooKeeperSession {
 public:
  // What the session reports to the reader of the tree, on the thread running `io`.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_connected() = 0;     // the whole subtree must be read (again)
    virtual void on_disconnected() = 0;  // reads that failed with the connection need redoing
    virtual void on_closed() = 0;        // the handle is gone: no reply of it will count
    // A watch event of the current handle (not a session event).
    virtual void on_node_event(int type, const std::string& path) = 0;
    // The answer to a read() of the current handle.
    virtual void on_read_reply(const ZnodeRead& read, ZnodeReply& reply) = 0;
  };
  using ErrorReporter = std::function<void(const std::string& message)>;

  ZooKeeperSession(boost::asio::io_context& io, const ZooKeeperOptions& options, ErrorReporter report_error);
  ZooKeeperSession(const ZooKeeperSession&) = delete;
  ZooKeeperSession& operator=(const ZooKeeperSession&) = delete;

  // Opens the first handle (posted to `io`); events go to `listener` from then on. Call once.
  void start(Listener& listener);
  // Closes the handle (zookeeper_close). Once the thread running `io` has ended, also from
  // another thread: the replies the close produces are posted to `io`, never run.
  void close();

  bool is_open() const { return zh_ != nullptr; }
  bool connected() const { return connected_; }

  // Sends `read` of the znode at `path`, with a watch unless it is a barrier. Returns ZOK, or
  // the client's error code when the read was not queued (no reply will come).
  // REQUIRES: is_open()
  int read(ZnodeRead read, const std::string& path);

  // The current handle's session once it has connected. Safe from any thread.
  std::optional<ZooKeeperSessionId> id() const;

 private:
  // The context of every watch: which handle (generation) an event belongs to.
  struct Handle {
    ZooKeeperSession* session;
    std::uint64_t generation;
  };
  // The context of every read; owned by the C client until its completion runs.
  struct Request {
    ZooKeeperSession* session;
    std::uint64_t generation;
    ZnodeRead read;
  };

  static void on_client_event(zhandle_t*, int type, int state, const char* path, void* context);
  static void on_data_reply(int rc, const char* value, int length, const Stat* stat, const void* data);
  static void on_children_reply(int rc, const String_vector* names, const Stat* stat, const void* data);
  static void on_exists_reply(int rc, const Stat* stat, const void* data);
  static void post_reply(const void* data, ZnodeReply reply);

  void open();
  void reopen_after(std::chrono::milliseconds delay);
  void on_session_event(std::uint64_t generation, int state);
  void on_node_event(std::uint64_t generation, int type, const std::string& path);
  void on_reply(const Request& request, ZnodeReply& reply);
  void arm_watchdog(std::chrono::milliseconds delay);

  boost::asio::io_context& io_;
  const ZooKeeperOptions& options_;
  ErrorReporter report_error_;
  Listener* listener_ = nullptr;
  boost::asio::steady_timer watchdog_timer_, reopen_timer_;

  zhandle_t* zh_ = nullptr;
  std::unique_ptr<Handle> handle_;  // lives as long as zh_: every callback's context
  std::uint64_t generation_ = 0;    // which handle; bumped per zookeeper_init
  bool connected_ = false;
  std::chrono::steady_clock::time_point disconnected_since_{};
  Backoff session_backoff_, connect_backoff_;

  mutable std::mutex id_mutex_;
  std::optional<ZooKeeperSessionId> id_;
};

// Failures of the connection or session rather than of the read: the whole subtree is read
// again once a session is connected (the session event that follows reports the problem).
bool is_zookeeper_connection_error(int rc);

}  // namespace intake::sources
