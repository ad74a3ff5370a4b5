// ZooKeeperSource: watches one ZooKeeper subtree (default root "/intake") and reports it as a
// complete RawTree after every change — the same layout as Consul's prefix
// (docs/registry-layout.md): the znode "/intake/keys/team-a" holds the JSON of the entry
// "keys/team-a". Which znodes are entries and which are folders: sources/znode_tree.h. The
// handle and its session: sources/zookeeper_session.h; reads, watches and when to report:
// sources/znode_tree_watcher.h.
//
// Watching: ZooKeeper watches fire once, so every znode under the root carries a data watch
// and a child watch, re-armed by the read each event causes. A change re-reads only what it
// touched: a new value is one read; a new key one listing of its parent plus two reads (data
// and children); a deleted key one listing of its parent (plus, when nothing else is
// outstanding, one exists call as a barrier, below). A 10k-key tree loads with 2 requests per
// znode, pipelined. A missing root carries an exists watch and is loaded when it appears.
//
// Consistency: a tree is reported only when no request is outstanding. The server sends
// every watch event of a transaction before it answers any request processed after it, on the
// one connection, in order; so once every request is answered, every event that preceded the
// answers has been applied. Deletions, which need no read, send a barrier request (exists
// without a watch) for the same effect. Hence a multi-op (zoo_multi) changing several znodes
// is reported all at once or not at all, never half-applied.
// Bursts are coalesced: at most one report per `report_interval` (the first change after a
// quiet period is reported at once). Revision: the highest zxid in the tree, "0x<hex>".
//
// Failures: a lost connection is reported (on_source_error) and the last tree stays in force
// while the client reconnects; once reconnected the whole subtree is re-read (a read that
// failed with the connection must be redone). An expired session gets a new handle and a
// full re-read. A read that fails otherwise (e.g. no ACL permission) is retried with Backoff
// and holds back reports until it succeeds. Not connected at all: reported after 1 s, then
// again after each backoff step, while the client keeps trying the hosts by itself.
//
// Threads: the C client (libzookeeper_mt) runs its I/O and completion threads; its callbacks
// only copy what they got and post it to this source's own thread, which owns all state and
// calls the UpdateCallbacks. The control io_context of start() is not used.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sources/source.h"
#include "sources/watch_support.h"
#include "sources/zookeeper_options.h"

namespace intake::sources {

// A ZooKeeper session's id and password (what zoo_client_id returns).
struct ZooKeeperSessionId {
  std::int64_t id = 0;
  std::string password;
};

class ZooKeeperSource final : public Source {
 public:
  // Throws std::invalid_argument for a bad root (start-up only).
  explicit ZooKeeperSource(ZooKeeperOptions options);
  ~ZooKeeperSource() override;

  std::string name() const override { return "zookeeper"; }
  // Starts the source's thread and opens the session; `control` is not used. Call once.
  void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) override;
  // Ends the thread and closes the session (zookeeper_close: normally a few ms; the client
  // waits up to 1.5 s for the server to confirm the close if it is connected but silent).
  // No callback is made after it returns. Idempotent; the destructor calls it. Not from
  // inside an UpdateCallbacks call (those run on the thread it joins).
  void stop() override;
  SourceStats stats() const override { return stats_.snapshot(); }

  // The current handle's session once it has connected (kept while it reconnects; replaced
  // when it expires), for diagnostics and tests. Safe from any thread.
  std::optional<ZooKeeperSessionId> session() const;

 private:
  class Loop;

  ZooKeeperOptions options_;
  WatchStats stats_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace intake::sources
