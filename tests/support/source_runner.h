// Runs one config source on its own control io_context thread, as the gateway does, and
// records everything it reports, for tests that watch a source converge.
#pragma once

#include <utility>  // before Boost 1.74's asio headers, which use std::exchange without it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/updates.h"
#include "sources/source.h"

namespace intake::testing {

class RecordingCallbacks final : public config::UpdateCallbacks {
 public:
  void on_tree(config::RawTree tree) override {
    std::lock_guard lock(mutex_);
    trees_.push_back(std::move(tree));
  }
  void on_brokers(std::string_view, std::vector<std::string>) override {}
  void on_source_error(std::string_view source, std::string_view message) override {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::string(source) + ": " + std::string(message));
  }

  std::vector<config::RawTree> trees() const {
    std::lock_guard lock(mutex_);
    return trees_;
  }
  std::size_t tree_count() const {
    std::lock_guard lock(mutex_);
    return trees_.size();
  }
  std::optional<config::RawTree> last_tree() const {
    std::lock_guard lock(mutex_);
    if (trees_.empty()) return std::nullopt;
    return trees_.back();
  }
  // The entries of the last tree; empty when none was reported.
  std::map<std::string, std::string> last_entries() const {
    std::lock_guard lock(mutex_);
    if (trees_.empty()) return {};
    return trees_.back().entries;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::size_t error_count() const {
    std::lock_guard lock(mutex_);
    return errors_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<config::RawTree> trees_;
  std::vector<std::string> errors_;
};

// REQUIRES: `source` outlives the runner.
class SourceRunner {
 public:
  explicit SourceRunner(sources::Source& source) : source_(source) {
    source_.start(context_, callbacks_);
    thread_ = std::thread([this] { context_.run(); });
  }
  ~SourceRunner() { stop(); }
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  // Stops the control context (abandoning whatever the source has in flight) and joins.
  void stop() {
    context_.stop();
    if (thread_.joinable()) thread_.join();
    source_.stop();
  }

  RecordingCallbacks& callbacks() { return callbacks_; }

  // Returns true once the control thread has run a handler posted now: whatever it was in
  // the middle of when called (a source's synchronous step and the callbacks it made) has
  // finished. False if that takes longer than `timeout`.
  bool barrier(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto reached = std::make_shared<std::promise<void>>();
    auto future = reached->get_future();
    boost::asio::post(context_, [reached] { reached->set_value(); });
    return future.wait_for(timeout) == std::future_status::ready;
  }

 private:
  sources::Source& source_;
  RecordingCallbacks callbacks_;
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{context_.get_executor()};
  std::thread thread_;
};

}  // namespace intake::testing
