#include "sources/read_once.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "sources/consul_kv.h"
#include "sources/etcd.h"
#include "sources/file.h"
#include "sources/zookeeper.h"

namespace intake::sources {
namespace {

// Keeps the first tree or the first error, whichever comes first, from any thread.
class FirstAnswer final : public config::UpdateCallbacks {
 public:
  void on_tree(config::RawTree tree) override {
    const std::lock_guard lock(mutex_);
    if (!answer_) answer_.emplace(std::move(tree));
    answered_.notify_all();
  }
  void on_brokers(std::string_view, std::vector<std::string>) override {}
  void on_source_error(std::string_view source, std::string_view message) override {
    std::string text(message);
    // The watcher would retry; a one-shot read does not.
    if (const auto retry = text.rfind(" (retrying in "); retry != std::string::npos) text.erase(retry);
    const std::lock_guard lock(mutex_);
    if (!answer_) answer_.emplace(Error{ErrorCode::kInternal, std::string(source) + ": " + text});
    answered_.notify_all();
  }

  // The first answer, or nullopt after `timeout`.
  std::optional<Result<config::RawTree>> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    answered_.wait_for(lock, timeout, [this] { return answer_.has_value(); });
    return std::move(answer_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable answered_;
  std::optional<Result<config::RawTree>> answer_;
};

}  // namespace

std::unique_ptr<Source> make_tree_source(const RegistryOptions& registry) {
  using Kind = RegistryOptions::Kind;
  switch (registry.source) {
    case Kind::kNone:
      return nullptr;
    case Kind::kConsul:
      return std::make_unique<ConsulKvSource>(registry.consul);
    case Kind::kEtcd:
      return std::make_unique<EtcdSource>(registry.etcd);
    case Kind::kZooKeeper:
      return std::make_unique<ZooKeeperSource>(registry.zookeeper);
    case Kind::kFile:
      return std::make_unique<FileSource>(registry.file);
  }
  return nullptr;
}

Result<config::RawTree> read_tree_once(Source& source, std::chrono::milliseconds timeout) {
  FirstAnswer first;
  boost::asio::io_context control{1};
  auto work = boost::asio::make_work_guard(control);
  source.start(control, first);
  std::thread thread([&control] { control.run(); });
  auto answer = first.wait(timeout);
  // Stopping the context abandons the watch's request in flight; sources with threads of
  // their own end them in stop().
  control.stop();
  thread.join();
  source.stop();
  if (!answer) {
    return Error{ErrorCode::kInternal, source.name() + ": no answer within " + std::to_string(timeout.count()) + " ms"};
  }
  return std::move(*answer);
}

}  // namespace intake::sources
