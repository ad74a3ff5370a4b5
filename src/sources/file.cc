#include "sources/file.h"

#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it

#include <boost/asio.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>

#include "sources/file_change_detector.h"
#include "sources/file_tree_reader.h"

namespace intake::sources {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kSourceName = "file";

}  // namespace

// The source loop: re-reads the tree when the detector says so, reports what changed, and
// retries read errors with backoff. Owned by its coroutine; touched only from the control
// context.
class FileSource::Loop : public std::enable_shared_from_this<Loop> {
 public:
  Loop(asio::io_context& control, const FileOptions& options, FileOptions::Form form, WatchStats& stats,
       config::UpdateCallbacks& callbacks)
      : options_(options),
        stats_(stats),
        callbacks_(callbacks),
        reader_(options_, form),
        changes_(std::make_shared<FileChangeDetector>(control, reader_.base(), options.debounce)) {}

  void start(asio::io_context& control) {
    asio::co_spawn(
        control, [self = shared_from_this()] { return self->run(); }, asio::detached);
  }

 private:
  asio::awaitable<void> run() {
    for (;;) {
      co_await changes_->next_reread();
      const Result<void> reread_done = reread();
      if (reread_done) {
        backoff_.reset();
        continue;
      }
      stats_.count_error();
      std::string problem = reread_done.error().message;
      if (reread_done.error().code != ErrorCode::kInvalidConfig) {  // a bad YAML file waits for its next change
        const auto delay = backoff_.next();
        problem += " (retrying in " + std::to_string(delay.count()) + " ms)";
        changes_->retry_after(delay);
      }
      callbacks_.on_source_error(kSourceName, problem);
    }
  }

  // Reads the whole tree and reports it if it changed. Events queued before are handled first;
  // a writer that started on a file while it was being read voids the pass (its close will
  // schedule the next one), so a half-written file is never reported. Fails with
  // ErrorCode::kInvalidConfig for a YAML file that does not parse, otherwise for a read error.
  Result<void> reread() {
    stats_.count_request();
    if (!changes_->is_open()) {
      if (auto opened = changes_->open(); !opened) return opened;
    }
    if (!changes_->drain(nullptr)) {
      changes_->reset();
      return make_error(ErrorCode::kInternal, "reading inotify events failed");
    }
    Result<FileTreePass> pass = reader_.read(*changes_, reported_ ? &*reported_ : nullptr);
    WriterActivity activity;
    if (!changes_->drain(&activity)) {
      changes_->reset();
      changes_->schedule_after_debounce();
      return {};
    }
    if (!pass) return std::move(pass).error();
    if (activity.events_lost) return {};
    for (const auto& key : activity.keys) {
      if (pass->read.count(key) != 0) return {};  // not even a parse error: it may be half of it
    }
    if (pass->keep_last) return {};
    Result<FileEntries> entries = reader_.decode(std::move(pass).value());
    if (!entries) return std::move(entries).error();
    if (reported_ && *reported_ == entries.value()) return {};
    ++revision_;
    config::RawTree tree;
    tree.prefix = options_.path;
    tree.entries = entries.value();
    tree.source = std::string(kSourceName);
    tree.revision = std::to_string(revision_);
    reported_ = std::move(entries).value();
    stats_.count_snapshot(tree.revision);
    callbacks_.on_tree(std::move(tree));
    return {};
  }

  const FileOptions options_;
  WatchStats& stats_;
  config::UpdateCallbacks& callbacks_;
  const FileTreeReader reader_;
  const std::shared_ptr<FileChangeDetector> changes_;
  std::optional<FileEntries> reported_;
  std::uint64_t revision_ = 0;
  Backoff backoff_;
};

FileSource::FileSource(FileOptions options) : options_(std::move(options)) {}

void FileSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  FileOptions::Form form = options_.form;
  if (form == FileOptions::Form::kAuto) {
    std::error_code ignored;
    form = std::filesystem::is_directory(options_.path, ignored) ? FileOptions::Form::kDirectory
                                                                 : FileOptions::Form::kYaml;
  }
  std::make_shared<Loop>(control, options_, form, stats_, callbacks)->start(control);
}

}  // namespace intake::sources
