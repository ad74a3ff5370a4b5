// A plain ZooKeeper client for tests' writes (Debian's multithreaded C client): synchronous
// except for the bulk helpers, which pipeline their requests (one session answers in order).
#pragma once

// The synchronous calls exist only in the multithreaded client, and its header declares them
// only under THREADED.
#define THREADED
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http_client.h"

namespace intake::testing {

using namespace std::chrono_literals;

inline void zk_check(int rc, const std::string& what) {
  if (rc != ZOK) throw std::runtime_error(what + ": " + zerror(rc));
}

// The server's answer to a four-letter word (those scripts/peers/zookeeper.sh allows: ruok,
// srvr, stat, mntr); `hosts` is one "host:port".
inline std::string zk_four_letter(const std::string& hosts, const std::string& command) {
  const auto [host, port] = parse_host_port(hosts);
  HttpConnection connection(host, port);
  connection.send_raw(command);
  return connection.read_until_close();
}

// One counter or gauge of `mntr` (its lines are "name<TAB>value"), e.g.
// zk_stale_sessions_expired: the sessions the server has expired since it started.
inline std::uint64_t zk_monitor_value(const std::string& hosts, const std::string& name) {
  const std::string all = zk_four_letter(hosts, "mntr");
  const std::string line_start = name + "\t";
  for (std::size_t at = 0; at < all.size();) {
    const std::size_t end = std::min(all.find('\n', at), all.size());
    if (all.compare(at, line_start.size(), line_start) == 0) {
      return std::stoull(all.substr(at + line_start.size(), end - at - line_start.size()));
    }
    at = end + 1;
  }
  throw std::runtime_error("no " + name + " in ZooKeeper's mntr answer: " + all.substr(0, 200));
}

// Waits for outstanding asynchronous calls of the C client.
class Batch {
 public:
  explicit Batch(int calls) : left_(calls) {}
  void done(int rc, bool ok) {
    std::lock_guard lock(mutex_);
    if (!ok && first_error_ == ZOK) first_error_ = rc;
    if (--left_ == 0) all_done_.notify_all();
  }
  // Returns the first unexpected result code, ZOK if none.
  int wait() {
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [&] { return left_ == 0; });
    return first_error_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_done_;
  int left_;
  int first_error_ = ZOK;
};

struct Call {
  Batch* batch;
  std::string path;
  std::vector<std::string> children;
};

class ZkClient {
 public:
  explicit ZkClient(const std::string& hosts, const clientid_t* session = nullptr) {
    zh_ = zookeeper_init2(hosts.c_str(), &on_event, 10'000, session, this, 0, &drop_log_line);
    if (zh_ == nullptr) throw std::runtime_error("zookeeper_init2 failed for " + hosts);
    std::unique_lock lock(mutex_);
    if (!state_changed_.wait_for(lock, 15s, [&] { return state_ == ZOO_CONNECTED_STATE; })) {
      throw std::runtime_error("test client not connected to " + hosts);
    }
  }
  ~ZkClient() {
    if (zh_ != nullptr) zookeeper_close(zh_);
  }
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  zhandle_t* handle() { return zh_; }

  // Creates the znode and any missing parents (empty); ACL open unless given.
  void create(const std::string& path, const std::string& value, const ACL_vector* acl = &ZOO_OPEN_ACL_UNSAFE) {
    int rc =
        zoo_create(zh_, path.c_str(), value.data(), static_cast<int>(value.size()), acl, ZOO_PERSISTENT, nullptr, 0);
    if (rc == ZNONODE) {
      ensure(path.substr(0, path.rfind('/')));
      rc = zoo_create(zh_, path.c_str(), value.data(), static_cast<int>(value.size()), acl, ZOO_PERSISTENT, nullptr, 0);
    }
    zk_check(rc, "create " + path);
  }
  // Creates the znode (empty) unless it exists, with its parents.
  void ensure(const std::string& path) {
    if (path.empty()) return;
    int rc = zoo_create(zh_, path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    if (rc == ZNONODE) {
      ensure(path.substr(0, path.rfind('/')));
      rc = zoo_create(zh_, path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    }
    if (rc != ZNODEEXISTS) zk_check(rc, "create " + path);
  }
  void set(const std::string& path, const std::string& value) {
    zk_check(zoo_set(zh_, path.c_str(), value.data(), static_cast<int>(value.size()), -1), "set " + path);
  }
  void remove(const std::string& path) { zk_check(zoo_delete(zh_, path.c_str(), -1), "delete " + path); }

  // Creates these znodes (parents must exist), pipelined.
  void create_many(const std::vector<std::pair<std::string, std::string>>& nodes) {
    Batch batch(static_cast<int>(nodes.size()));
    std::vector<std::unique_ptr<Call>> calls;
    for (const auto& [path, value] : nodes) {
      calls.push_back(std::make_unique<Call>(Call{&batch, path, {}}));
      const int rc = zoo_acreate(zh_, path.c_str(), value.data(), static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE,
                                 ZOO_PERSISTENT, &on_created, calls.back().get());
      if (rc != ZOK) batch.done(rc, false);
    }
    zk_check(batch.wait(), "create_many");
  }

  // Deletes the znode and everything below it (nothing if it is missing): lists level by
  // level, then deletes the deepest level first, each level pipelined.
  void remove_tree(const std::string& root) {
    std::vector<std::vector<std::string>> levels{{root}};
    while (!levels.back().empty()) {
      Batch batch(static_cast<int>(levels.back().size()));
      std::vector<std::unique_ptr<Call>> calls;
      for (const auto& path : levels.back()) {
        calls.push_back(std::make_unique<Call>(Call{&batch, path, {}}));
        const int rc = zoo_aget_children(zh_, path.c_str(), 0, &on_listed, calls.back().get());
        if (rc != ZOK) batch.done(rc, false);
      }
      zk_check(batch.wait(), "list under " + root);
      std::vector<std::string> next;
      for (const auto& call : calls) {
        for (const auto& name : call->children) next.push_back(call->path + "/" + name);
      }
      levels.push_back(std::move(next));
    }
    for (auto level = levels.rbegin(); level != levels.rend(); ++level) {
      if (level->empty()) continue;
      Batch batch(static_cast<int>(level->size()));
      std::vector<std::unique_ptr<Call>> calls;
      for (const auto& path : *level) {
        calls.push_back(std::make_unique<Call>(Call{&batch, path, {}}));
        const int rc = zoo_adelete(zh_, path.c_str(), -1, &on_deleted, calls.back().get());
        if (rc != ZOK) batch.done(rc, false);
      }
      zk_check(batch.wait(), "delete under " + root);
    }
  }

  // Sets several znodes in one transaction.
  void multi_set(const std::vector<std::pair<std::string, std::string>>& values) {
    std::vector<zoo_op_t> ops(values.size());
    std::vector<zoo_op_result_t> results(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      zoo_set_op_init(&ops[i], values[i].first.c_str(), values[i].second.data(),
                      static_cast<int>(values[i].second.size()), -1, nullptr);
    }
    zk_check(zoo_multi(zh_, static_cast<int>(ops.size()), ops.data(), results.data()), "multi set");
  }

 private:
  static void on_event(zhandle_t*, int type, int state, const char*, void* context) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<ZkClient*>(context);
    std::lock_guard lock(self->mutex_);
    self->state_ = state;
    self->state_changed_.notify_all();
  }
  static void on_created(int rc, const char*, const void* data) {
    static_cast<const Call*>(data)->batch->done(rc, rc == ZOK);
  }
  static void on_listed(int rc, const String_vector* names, const void* data) {
    auto* call = static_cast<Call*>(const_cast<void*>(data));
    if (rc == ZOK && names != nullptr) call->children.assign(names->data, names->data + names->count);
    call->batch->done(rc, rc == ZOK || rc == ZNONODE);
  }
  static void on_deleted(int rc, const void* data) {
    static_cast<const Call*>(data)->batch->done(rc, rc == ZOK || rc == ZNONODE);
  }
  static void drop_log_line(const char*) {}

  zhandle_t* zh_ = nullptr;
  std::mutex mutex_;
  std::condition_variable state_changed_;
  int state_ = 0;
};

}  // namespace intake::testing
