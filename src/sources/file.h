// FileSource: the registry tree from a local path, re-read whenever it changes (inotify).
//
// Two forms:
//  - a directory mirroring the registry layout (docs/registry-layout.md): every regular file
//    below it is one entry, its path relative to the directory is the key ("keys/team-a") and
//    its content the value. Names starting with '.' or '#' or ending in '~', ".swp", ".tmp"
//    (editor temp and swap files) are skipped, directories too; symlinks to files are
//    followed, symlinks to directories are not.
//  - a single YAML file whose top level maps keys to values (yaml_to_entries below), e.g.
//      keys/team-a: {"secret_sha256": "...", "topics": ["events.*"]}
//      settings: '{"default_mode": "async"}'
//
// Guarantees:
//  - A half-written file is never reported: a file that was modified (or created) and not
//    yet closed by its writer keeps the content last reported for it (a new one stays
//    absent) until the writer closes it; a re-read during which a writer started on a file it
//    read is dropped (the writer's close brings the next one); a temp file renamed over the
//    target (the editors' atomic save) is read only under its final name. Only a writer that
//    already had a file open when the source started is unknown to it.
//  - After a change, the source waits for `debounce` of quiet (at most 10 x debounce in all),
//    re-reads the whole tree and reports it only when it differs from the last report; the
//    first successful read is always reported. Revision: a counter of reports ("1", "2", ...).
//  - A tree that cannot be read (missing path, permissions, a file over max_file_bytes) or a
//    YAML file that does not parse is reported through on_source_error, never as a tree: the
//    last good config stays. Read errors are retried with Backoff; a bad YAML file is re-read
//    on its next change. An empty YAML file is an empty tree (as an empty registry prefix is).
//  - Directories created later are watched too (inotify is not recursive: the re-read adds a
//    watch to every directory it walks, before listing it).
//
// Runs on the control io_context (the inotify descriptor is a posix::stream_descriptor):
// stopping that context stops the source at once.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "error/result.h"
#include "sources/file_options.h"
#include "sources/source.h"
#include "sources/watch_support.h"

namespace intake::sources {

class FileSource final : public Source {
 public:
  explicit FileSource(FileOptions options);

  std::string name() const override { return "file"; }
  void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) override;
  SourceStats stats() const override { return stats_.snapshot(); }

 private:
  class Watch;

  FileOptions options_;
  WatchStats stats_;
};

// True for names the directory form skips: ".x", "#x#", "x~", "x.swp", "x.tmp".
bool is_editor_temp_name(std::string_view name);

// Turns a YAML document into registry entries. The top level must be a mapping (or empty:
// no entries) with scalar keys. Each value becomes:
//  - a scalar: its text as written, unquoted ('{"a": 1}' stays that JSON text); null or
//    empty: "";
//  - a mapping or sequence: equivalent JSON text. Inside it, a quoted scalar is a JSON
//    string; a plain one is true/false/null (also True/TRUE/..., ~ and empty for null) or a
//    number when it is spelled as a JSON number, else a string: `n: 5` is 5, `n: "5"` is
//    "5", `v: 0x1F` and `r: .5` are strings. Explicitly tagged scalars are strings.
// Fails (ErrorCode::kInvalidConfig) with a message naming the YAML line.
Result<std::map<std::string, std::string>> yaml_to_entries(std::string_view text);

}  // namespace intake::sources
