// FileChangeDetector: decides when the file source re-reads its tree. Internal to sources/.
// It watches every directory a pass hands it with inotify, tracks which files a writer has
// open (modified or created, not yet closed), and turns events into one re-read after
// `debounce` of quiet (at most 10 x debounce after the first event not yet acted on).
//
// Events are read by drain() only (by its own coroutine when the descriptor is readable, and
// by the source before and after each pass), so they are handled in order and none hides in a
// buffer. Asio does not remember readiness that came while no wait was pending, which is why
// every wake-up drains to EAGAIN.
//
// Runs on the control io_context; owned through a shared_ptr by the coroutines it spawns.
// REQUIRES: called only from that context's thread.
#pragma once

#include <utility>  // first: Boost 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "error/result.h"
#include "sources/file_tree_reader.h"

namespace intake::sources {

// What writers did while a pass read the tree.
struct WriterActivity {
  std::set<std::string> keys;  // files a writer has been at (modified or created)
  bool events_lost = false;    // the kernel's queue overflowed: anything may have changed
};

class FileChangeDetector final : public DirectoryWatches, public std::enable_shared_from_this<FileChangeDetector> {
 public:
  // `base`: the directory keys are relative to.
  FileChangeDetector(boost::asio::io_context& control, std::filesystem::path base, std::chrono::milliseconds debounce);

  // Waits until a re-read is due: a quiet period after a change, or a retry time set by
  // retry_after(). The first one is due at once.
  boost::asio::awaitable<void> next_reread();

  // Asks for a re-read after `quiet` without further events (capped as above).
  void schedule(std::chrono::milliseconds quiet);
  // Asks for a re-read after `delay`, events or not (a retry after a read error).
  void retry_after(std::chrono::milliseconds delay);
  void schedule_after_debounce() { schedule(debounce_); }

  bool is_open() const { return events_.is_open(); }
  // A new inotify descriptor (no directory watched yet) and the coroutine that reads it.
  Result<void> open();
  // Drops the descriptor and all that was known through it.
  void reset();
  // Reads and handles every queued event, noting writers' activity in `activity` (optional).
  // Returns false when the descriptor failed.
  bool drain(WriterActivity* activity);

  Result<void> watch_directory(const std::filesystem::path& directory, const std::string& relative) override;
  bool being_written(const std::string& key) const override { return writing_.count(key) != 0; }

 private:
  boost::asio::awaitable<void> watch_events();
  void handle_event(int wd, std::uint32_t mask, std::string_view name, WriterActivity* activity);
  bool created_for_writing(const std::string& key) const;

  const std::filesystem::path base_;
  const std::chrono::milliseconds debounce_;
  boost::asio::posix::stream_descriptor events_;
  boost::asio::steady_timer timer_;
  std::array<char, std::size_t{64} * 1024> buffer_;
  std::map<int, std::string> dirs_;  // watch descriptor -> directory relative to base_
  std::set<std::string> writing_;    // keys modified or created and not yet closed
  bool pending_ = false;             // a re-read is due when timer_ expires
  std::chrono::steady_clock::time_point pending_since_;
};

}  // namespace intake::sources
