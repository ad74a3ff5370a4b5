#include "sources/file_change_detector.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace intake::sources {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Everything that can change what a re-read sees. IN_MODIFY only marks a file as being
// written; IN_CLOSE_WRITE / IN_MOVED_TO say it is complete.
constexpr std::uint32_t kDirectoryMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                         IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY | IN_ATTRIB | IN_ONLYDIR |
                                         IN_EXCL_UNLINK;

std::string errno_text(int error) { return std::generic_category().message(error); }

}  // namespace

FileChangeDetector::FileChangeDetector(asio::io_context& control, fs::path base, std::chrono::milliseconds debounce)
    : base_(std::move(base)),
      debounce_(debounce),
      events_(control),
      timer_(control, std::chrono::steady_clock::time_point::max()) {
  schedule(std::chrono::milliseconds(0));
}

// A timer moved meanwhile is waited for again, so only a quiet period leads to a re-read.
asio::awaitable<void> FileChangeDetector::next_reread() {
  boost::system::error_code ignored;
  for (;;) {
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (std::chrono::steady_clock::now() < timer_.expiry()) continue;
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
    if (!pending_) continue;
    pending_ = false;
    co_return;
  }
}

void FileChangeDetector::schedule(std::chrono::milliseconds quiet) {
  const auto now = std::chrono::steady_clock::now();
  if (!pending_) {
    pending_ = true;
    pending_since_ = now;
  }
  timer_.expires_at(std::min(now + quiet, pending_since_ + debounce_ * 10));
}

void FileChangeDetector::retry_after(std::chrono::milliseconds delay) {
  pending_ = true;
  pending_since_ = std::chrono::steady_clock::now();
  timer_.expires_after(delay);
}

Result<void> FileChangeDetector::open() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::kInternal, "cannot start inotify: " + errno_text(errno));
  events_.assign(fd);
  dirs_.clear();
  writing_.clear();
  asio::co_spawn(
      timer_.get_executor(), [self = shared_from_this()] { return self->watch_events(); }, asio::detached);
  return {};
}

void FileChangeDetector::reset() {
  boost::system::error_code ignored;
  events_.close(ignored);
  dirs_.clear();
  writing_.clear();
}

// Handles inotify events until the descriptor fails or the context stops.
asio::awaitable<void> FileChangeDetector::watch_events() {
  boost::system::error_code error;
  for (;;) {
    co_await events_.async_wait(asio::posix::descriptor_base::wait_read,
                                asio::redirect_error(asio::use_awaitable, error));
    if (error == asio::error::operation_aborted || !events_.is_open()) co_return;
    if (error || !drain(nullptr)) {
      reset();  // a new descriptor on the next re-read
      schedule(debounce_);
      co_return;
    }
  }
}

bool FileChangeDetector::drain(WriterActivity* activity) {
  for (;;) {
    const ssize_t got = ::read(events_.native_handle(), buffer_.data(), buffer_.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (got <= 0) return false;
    // The kernel hands over whole events only.
    for (std::size_t at = 0; at + sizeof(inotify_event) <= static_cast<std::size_t>(got);) {
      inotify_event event;
      std::memcpy(&event, buffer_.data() + at, sizeof event);
      const char* name = buffer_.data() + at + sizeof event;
      handle_event(event.wd, event.mask, event.len > 0 ? std::string_view(name, ::strnlen(name, event.len)) : "",
                   activity);
      at += sizeof event + event.len;
    }
  }
}

void FileChangeDetector::handle_event(int wd, std::uint32_t mask, std::string_view name, WriterActivity* activity) {
  if ((mask & IN_Q_OVERFLOW) != 0) {  // events were lost: nothing known about writers either
    writing_.clear();
    if (activity != nullptr) activity->events_lost = true;
    schedule(debounce_);
    return;
  }
  const auto dir = dirs_.find(wd);
  if (dir == dirs_.end()) return;
  if ((mask & IN_IGNORED) != 0) {  // the directory is gone (or its watch removed)
    dirs_.erase(dir);
    schedule(debounce_);
    return;
  }
  if ((mask & IN_MOVE_SELF) != 0) {  // its path is stale; the re-read watches it again where it is now
    ::inotify_rm_watch(events_.native_handle(), wd);
    schedule(debounce_);
    return;
  }
  if (name.empty()) {
    if ((mask & (IN_DELETE_SELF | IN_ATTRIB)) != 0) schedule(debounce_);
    return;
  }
  const std::string key = dir->second.empty() ? std::string(name) : dir->second + "/" + std::string(name);
  const bool is_directory = (mask & IN_ISDIR) != 0;
  if ((mask & IN_MODIFY) != 0 || ((mask & IN_CREATE) != 0 && !is_directory && created_for_writing(key))) {
    if (is_directory) return;
    writing_.insert(key);  // its writer's close (IN_CLOSE_WRITE) will follow
    if (activity != nullptr) activity->keys.insert(key);
    return;
  }
  if ((mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) != 0) {
    writing_.erase(key);
    if (is_directory) {  // forget the writers below a directory that moved or went away
      const std::string below = key + "/";
      for (auto it = writing_.lower_bound(below); it != writing_.end() && it->starts_with(below);) {
        it = writing_.erase(it);
      }
    }
  }
  schedule(debounce_);
}

// A newly created regular file with one link was opened by a writer that will close it; a
// symlink or a hard link (nothing will close it) is complete at once.
bool FileChangeDetector::created_for_writing(const std::string& key) const {
  struct stat info {};
  const fs::path path = base_ / key;
  return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_nlink == 1;
}

Result<void> FileChangeDetector::watch_directory(const fs::path& directory, const std::string& relative) {
  const int wd = ::inotify_add_watch(events_.native_handle(), directory.c_str(), kDirectoryMask);
  if (wd < 0) {
    const int error = errno;
    std::string problem = "cannot watch " + directory.string() + ": " + errno_text(error);
    if (error == ENOSPC) problem += " (raise fs.inotify.max_user_watches)";
    return make_error(ErrorCode::kInternal, std::move(problem));
  }
  dirs_[wd] = relative;  // also updates the path of a directory that moved
  return {};
}

}  // namespace intake::sources
