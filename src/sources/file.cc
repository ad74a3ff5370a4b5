#include "sources/file.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <boost/asio.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <system_error>

#include "config/yaml_json.h"

namespace intake::sources {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSourceName = "file";
constexpr std::string_view kLostEvents("\0lost", 5);  // no file has this key

// Everything that can change what a re-read sees. IN_MODIFY only marks a file as being
// written; IN_CLOSE_WRITE / IN_MOVED_TO say it is complete.
constexpr std::uint32_t kDirectoryMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                         IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY | IN_ATTRIB | IN_ONLYDIR |
                                         IN_EXCL_UNLINK;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}


std::string errno_text(int error) { return std::generic_category().message(error); }

// A tree that could not be read (retried with backoff); content that does not parse is
// ErrorCode::kInvalidConfig (re-read on its next change).
Error read_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }
Error content_error(std::string message) { return make_error(ErrorCode::kInvalidConfig, std::move(message)); }

}  // namespace

bool is_editor_temp_name(std::string_view name) {
  return name.empty() || name.front() == '.' || name.front() == '#' || ends_with(name, "~") ||
         ends_with(name, ".swp") || ends_with(name, ".tmp");
}

Result<std::map<std::string, std::string>> yaml_to_entries(std::string_view text) {
  std::map<std::string, std::string> entries;
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.empty() || (documents.size() == 1 && documents[0].IsNull())) return entries;
    if (documents.size() > 1) return content_error("more than one YAML document");
    const YAML::Node& root = documents[0];
    if (!root.IsMap()) return content_error(config::yaml_line_of(root) + ": the top level must map registry keys to values");
    for (const auto& item : root) {
      if (!item.first.IsScalar()) return content_error(config::yaml_line_of(item.first) + ": a registry key must be a scalar");
      const std::string& key = item.first.Scalar();
      if (entries.count(key) != 0) return content_error(config::yaml_line_of(item.first) + ": duplicate key '" + key + "'");
      std::string value;
      if (item.second.IsScalar()) {
        value = item.second.Scalar();
      } else if (!item.second.IsNull()) {
        auto json = config::yaml_to_json(item.second);
        if (!json) return content_error(std::move(json).error().message);
        value = std::move(json).value();
      }
      entries.emplace(key, std::move(value));
    }
    return entries;
  } catch (const YAML::Exception& error) {
    return content_error(std::string("not valid YAML: ") + error.what());
  }
}

// The watcher's state, shared by its two coroutines (inotify events, debounced re-reads) and
// touched only from the control context.
class FileSource::Watch : public std::enable_shared_from_this<Watch> {
 public:
  Watch(asio::io_context& control, const FileOptions& settings, FileOptions::Form form, WatchStats& stats,
        config::UpdateCallbacks& callbacks)
      : settings_(settings),
        form_(form),
        stats_(stats),
        callbacks_(callbacks),
        events_(control),
        timer_(control, std::chrono::steady_clock::time_point::max()) {
    const fs::path path(settings.path);
    if (form_ == FileOptions::Form::kDirectory) {
      base_ = path;
    } else {
      base_ = path.has_parent_path() ? path.parent_path() : fs::path(".");
      yaml_name_ = path.filename().string();
    }
  }

  void start() {
    asio::co_spawn(timer_.get_executor(), [self = shared_from_this()] { return self->reread_loop(); }, asio::detached);
    schedule(std::chrono::milliseconds(0));
  }

 private:
  // Handles inotify events until the descriptor fails or the context stops. The events are
  // read by drain_events() only (here and before and after each re-read), so they are
  // handled in order and none hides in a buffer. Asio does not remember readiness that came
  // while no wait was pending, which is why every wake-up drains to EAGAIN.
  asio::awaitable<void> watch_events() {
    boost::system::error_code error;
    for (;;) {
      co_await events_.async_wait(asio::posix::descriptor_base::wait_read,
                                  asio::redirect_error(asio::use_awaitable, error));
      if (error == asio::error::operation_aborted || !events_.is_open()) co_return;
      if (error || !drain_events(nullptr)) {
        reset_inotify();  // a new descriptor on the next re-read
        schedule(settings_.debounce);
        co_return;
      }
    }
  }

  // Reads and handles every queued event. `touched` (optional) collects the keys of files a
  // writer has been at (modified or created) and kLostEvents after an overflow. Returns false
  // when the descriptor failed.
  bool drain_events(std::set<std::string>* touched) {
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
                     touched);
        at += sizeof event + event.len;
      }
    }
  }

  void reset_inotify() {
    boost::system::error_code ignored;
    events_.close(ignored);
    dirs_.clear();
    writing_.clear();
  }

  // Re-reads after `timer_` expires (schedule() moves it); a timer moved meanwhile is waited for
  // again, so only a quiet period leads to a re-read.
  asio::awaitable<void> reread_loop() {
    boost::system::error_code ignored;
    for (;;) {
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      if (std::chrono::steady_clock::now() < timer_.expiry()) continue;
      timer_.expires_at(std::chrono::steady_clock::time_point::max());
      if (!pending_) continue;
      pending_ = false;
      const Result<void> reread_done = reread();
      if (reread_done) {
        backoff_.reset();
        continue;
      }
      stats_.count_error();
      std::string problem = reread_done.error().message;
      if (reread_done.error().code != ErrorCode::kInvalidConfig) {
        const auto delay = backoff_.next();
        problem += " (retrying in " + std::to_string(delay.count()) + " ms)";
        pending_ = true;
        pending_since_ = std::chrono::steady_clock::now();
        timer_.expires_after(delay);
      }
      callbacks_.on_source_error(kSourceName, problem);
    }
  }

  // Asks for a re-read after `quiet` without further events, but no later than 10 x debounce
  // after the first event not yet acted on.
  void schedule(std::chrono::milliseconds quiet) {
    const auto now = std::chrono::steady_clock::now();
    if (!pending_) {
      pending_ = true;
      pending_since_ = now;
    }
    timer_.expires_at(std::min(now + quiet, pending_since_ + settings_.debounce * 10));
  }

  void handle_event(int wd, std::uint32_t mask, std::string_view name, std::set<std::string>* touched) {
    if ((mask & IN_Q_OVERFLOW) != 0) {  // events were lost: nothing known about writers either
      writing_.clear();
      if (touched != nullptr) touched->insert(std::string(kLostEvents));
      schedule(settings_.debounce);
      return;
    }
    const auto dir = dirs_.find(wd);
    if (dir == dirs_.end()) return;
    if ((mask & IN_IGNORED) != 0) {  // the directory is gone (or its watch removed)
      dirs_.erase(dir);
      schedule(settings_.debounce);
      return;
    }
    if ((mask & IN_MOVE_SELF) != 0) {  // its path is stale; the re-read watches it again where it is now
      ::inotify_rm_watch(events_.native_handle(), wd);
      schedule(settings_.debounce);
      return;
    }
    if (name.empty()) {
      if ((mask & (IN_DELETE_SELF | IN_ATTRIB)) != 0) schedule(settings_.debounce);
      return;
    }
    const std::string key = dir->second.empty() ? std::string(name) : dir->second + "/" + std::string(name);
    const bool is_directory = (mask & IN_ISDIR) != 0;
    if ((mask & IN_MODIFY) != 0 || ((mask & IN_CREATE) != 0 && !is_directory && created_for_writing(key))) {
      if (is_directory) return;
      writing_.insert(key);  // its writer's close (IN_CLOSE_WRITE) will follow
      if (touched != nullptr) touched->insert(key);
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
    schedule(settings_.debounce);
  }

  // A newly created regular file with one link was opened by a writer that will close it; a
  // symlink or a hard link (nothing will close it) is complete at once.
  bool created_for_writing(const std::string& key) const {
    struct stat info {};
    const fs::path path = base_ / key;
    return ::lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_nlink == 1;
  }

  // Reads the whole tree and reports it if it changed. Events queued before are handled first;
  // a writer that started on a file while it was being read voids the pass (its close will
  // schedule the next one), so a half-written file is never reported. Fails with
  // ErrorCode::kInvalidConfig for a YAML file that does not parse, otherwise for a read error.
  Result<void> reread() {
    stats_.count_request();
    if (!events_.is_open()) {
      if (auto opened = open_inotify(); !opened) return opened;
    }
    if (!drain_events(nullptr)) {
      reset_inotify();
      return read_error("reading inotify events failed");
    }
    std::map<std::string, std::string> entries;
    std::set<std::string> read;  // the keys whose content came from disk in this pass
    bool keep = false;
    const Result<void> outcome = form_ == FileOptions::Form::kDirectory ? read_directory(base_, "", entries, read)
                                                                         : read_yaml(entries, read, keep);
    std::set<std::string> touched;
    if (!drain_events(&touched)) {
      reset_inotify();
      schedule(settings_.debounce);
      return {};
    }
    if (!outcome && outcome.error().code != ErrorCode::kInvalidConfig) return outcome;
    if (touched.count(std::string(kLostEvents)) != 0) return {};
    for (const auto& key : touched) {
      if (read.count(key) != 0) return {};  // not even a parse error: it may be half of it
    }
    if (!outcome || keep) return outcome;
    if (reported_ && *reported_ == entries) return {};
    ++revision_;
    config::RawTree tree;
    tree.prefix = settings_.path;
    tree.entries = entries;
    tree.source = std::string(kSourceName);
    tree.revision = std::to_string(revision_);
    reported_ = std::move(entries);
    stats_.count_snapshot(tree.revision);
    callbacks_.on_tree(std::move(tree));
    return {};
  }

  Result<void> open_inotify() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return read_error("cannot start inotify: " + errno_text(errno));
    events_.assign(fd);
    dirs_.clear();
    writing_.clear();
    asio::co_spawn(timer_.get_executor(), [self = shared_from_this()] { return self->watch_events(); }, asio::detached);
    return {};
  }

  Result<void> add_watch(const fs::path& directory, const std::string& relative) {
    const int wd = ::inotify_add_watch(events_.native_handle(), directory.c_str(), kDirectoryMask);
    if (wd < 0) {
      const int error = errno;
      std::string problem = "cannot watch " + directory.string() + ": " + errno_text(error);
      if (error == ENOSPC) problem += " (raise fs.inotify.max_user_watches)";
      return read_error(std::move(problem));
    }
    dirs_[wd] = relative;  // also updates the path of a directory that moved
    return {};
  }

  // Reads a whole file; nullopt when it was removed meanwhile (its delete event follows).
  Result<std::optional<std::string>> read_file(const fs::path& path) const {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return std::optional<std::string>();
      return read_error("cannot read " + path.string() + ": " + errno_text(errno));
    }
    std::string content;
    std::array<char, 64 * 1024> chunk;
    for (;;) {
      const ssize_t got = ::read(fd, chunk.data(), chunk.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        const int error = errno;
        ::close(fd);
        return read_error("cannot read " + path.string() + ": " + errno_text(error));
      }
      if (got == 0) break;
      content.append(chunk.data(), static_cast<std::size_t>(got));
      if (content.size() > settings_.max_file_bytes) {
        ::close(fd);
        return read_error(path.string() + " is larger than " + std::to_string(settings_.max_file_bytes) + " bytes");
      }
    }
    ::close(fd);
    return std::optional<std::string>(std::move(content));
  }

  // Watches `directory` (before listing it, so nothing created meanwhile is missed), then reads
  // every entry below it into `entries`.
  Result<void> read_directory(const fs::path& directory, const std::string& relative,
                              std::map<std::string, std::string>& entries, std::set<std::string>& read) {
    if (auto watched = add_watch(directory, relative); !watched) return watched;
    std::error_code error;
    for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
      const std::string name = it->path().filename().string();
      if (is_editor_temp_name(name)) continue;
      const std::string key = relative.empty() ? name : relative + "/" + name;
      std::error_code gone;
      if (fs::is_directory(it->symlink_status(gone))) {
        if (auto below = read_directory(it->path(), key, entries, read); !below) return below;
        continue;
      }
      if (!fs::is_regular_file(it->status(gone))) continue;  // fifo, socket, dangling link, vanished
      if (writing_.count(key) != 0) {  // half-written: keep what was reported for it
        if (reported_) {
          if (const auto last = reported_->find(key); last != reported_->end()) entries.insert(*last);
        }
        continue;
      }
      auto content = read_file(it->path());
      if (!content) return std::move(content).error();
      if (content.value()) {
        read.insert(key);
        entries.emplace(key, std::move(*content.value()));
      }
    }
    if (error) return read_error("cannot list " + directory.string() + ": " + error.message());
    return {};
  }

  // `keep`: the file is being written; the last report stands.
  Result<void> read_yaml(std::map<std::string, std::string>& entries, std::set<std::string>& read, bool& keep) {
    if (auto watched = add_watch(base_, ""); !watched) return watched;
    if (writing_.count(yaml_name_) != 0) {
      keep = true;
      return {};
    }
    auto content = read_file(base_ / yaml_name_);
    if (!content) return std::move(content).error();
    if (!content.value()) return read_error("cannot read " + settings_.path + ": " + errno_text(ENOENT));
    read.insert(yaml_name_);
    auto decoded = yaml_to_entries(*content.value());
    if (!decoded) return content_error(settings_.path + ": " + decoded.error().message);
    entries = std::move(decoded).value();
    return {};
  }

  const FileOptions settings_;
  const FileOptions::Form form_;
  WatchStats& stats_;
  config::UpdateCallbacks& callbacks_;
  fs::path base_;          // the directory (directory form) or the YAML file's directory
  std::string yaml_name_;  // the YAML file's name in base_
  asio::posix::stream_descriptor events_;
  asio::steady_timer timer_;
  std::array<char, 64 * 1024> buffer_;
  std::map<int, std::string> dirs_;  // watch descriptor -> directory relative to base_
  std::set<std::string> writing_;    // keys modified or created and not yet closed
  bool pending_ = false;             // a re-read is due when timer_ expires
  std::chrono::steady_clock::time_point pending_since_;
  std::optional<std::map<std::string, std::string>> reported_;
  std::uint64_t revision_ = 0;
  Backoff backoff_;
};

FileSource::FileSource(FileOptions options) : options_(std::move(options)) {}

void FileSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  FileOptions::Form form = options_.form;
  if (form == FileOptions::Form::kAuto) {
    std::error_code ignored;
    form = fs::is_directory(options_.path, ignored) ? FileOptions::Form::kDirectory : FileOptions::Form::kYaml;
  }
  std::make_shared<Watch>(control, options_, form, stats_, callbacks)->start();
}

}  // namespace intake::sources
