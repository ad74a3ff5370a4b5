// FileSource: the registry tree from a local path, re-read whenever it changes (inotify).
//
// Two forms:
//  - a directory mirroring the registry layout (docs/registry-layout.md): every regular file
//    below it is one entry, its path relative to the directory is the key ("keys/team-a") and
//    its content the value. Names starting with '.' or '#' or ending in '~', ".swp", ".tmp"
//    (editor temp and swap files) are skipped, directories too; symlinks to files are
//    followed, symlinks to directories are not.
//  - a single YAML file whose top level maps keys to values (yaml_to_entries in
//    sources/file_tree_reader.h), e.g.
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
// stopping that context stops the source at once. Reading and decoding the tree:
// sources/file_tree_reader.h; when to re-read it: sources/file_change_detector.h.
#pragma once

#include <string>

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
  class Loop;

  FileOptions options_;
  WatchStats stats_;
};

}  // namespace intake::sources
