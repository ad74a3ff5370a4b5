#include "sources/zookeeper.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <utility>

#include "sources/znode_tree.h"
#include "sources/znode_tree_watcher.h"
#include "sources/zookeeper_session.h"

namespace intake::sources {

namespace asio = boost::asio;

// The source's own thread and what runs on it: the session and the tree watcher.
class ZooKeeperSource::Loop {
 public:
  Loop(const ZooKeeperOptions& options, WatchStats& stats, config::UpdateCallbacks& callbacks)
      : work_(io_.get_executor()),
        session_(io_, options, reporter(stats, callbacks)),
        tree_watcher_(io_, options, session_, stats, callbacks, reporter(stats, callbacks)) {}

  ~Loop() { stop(); }

  void start() {
    session_.start(tree_watcher_);
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
    // thread_ has ended, so the handle is ours. Replies the close produces are posted to the
    // stopped io_ and destroyed with it, unrun.
    session_.close();
  }

  std::optional<ZooKeeperSessionId> session() const { return session_.id(); }

 private:
  static ZooKeeperSession::ErrorReporter reporter(WatchStats& stats, config::UpdateCallbacks& callbacks) {
    return [&stats, &callbacks](const std::string& message) {
      stats.count_error();
      callbacks.on_source_error("zookeeper", message);
    };
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  ZooKeeperSession session_;
  ZnodeTreeWatcher tree_watcher_;
  std::thread thread_;
};

ZooKeeperSource::ZooKeeperSource(ZooKeeperOptions options) : options_(std::move(options)) {
  options_.root = normalize_znode_root(options_.root);
}

ZooKeeperSource::~ZooKeeperSource() { stop(); }

void ZooKeeperSource::start(boost::asio::io_context& /*control*/, config::UpdateCallbacks& callbacks) {
  loop_ = std::make_unique<Loop>(options_, stats_, callbacks);
  loop_->start();
}

void ZooKeeperSource::stop() {
  if (loop_) loop_->stop();
}

std::optional<ZooKeeperSessionId> ZooKeeperSource::session() const { return loop_ ? loop_->session() : std::nullopt; }

}  // namespace intake::sources
