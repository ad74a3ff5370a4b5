// FileTreeReader: reads the file source's tree from disk in one pass — every file below a
// directory, or one YAML file — and decodes it into registry entries. Internal to sources/
// (the two forms and their rules: sources/file.h). No watching of its own: each directory is
// handed to DirectoryWatches before it is listed, and files a writer still has open are not
// read.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "error/result.h"
#include "sources/file_options.h"

namespace intake::sources {

using FileEntries = std::map<std::string, std::string>;

// What a pass asks of change detection.
class DirectoryWatches {
 public:
  virtual ~DirectoryWatches() = default;
  // Called for each directory before it is listed, so nothing created meanwhile is missed.
  virtual Result<void> watch_directory(const std::filesystem::path& directory, const std::string& relative) = 0;
  // True while a writer has the file of `key` (relative to the base directory) open.
  virtual bool being_written(const std::string& key) const = 0;
};

// What one pass read from disk, not yet decoded.
struct FileTreePass {
  FileEntries entries;         // directory form: key -> content
  std::string yaml_text;       // YAML form: the file's content
  std::set<std::string> read;  // the keys whose content came from disk in this pass
  bool keep_last = false;      // YAML form: the file is being written, the last report stands
};

class FileTreeReader {
 public:
  // REQUIRES: form is kDirectory or kYaml.
  FileTreeReader(const FileOptions& options, FileOptions::Form form);

  // The directory the tree lives in (the YAML file's directory for the YAML form); keys are
  // relative to it.
  const std::filesystem::path& base() const { return base_; }

  // Reads the tree. A file being written keeps its content in `last` (absent if none). Fails
  // (ErrorCode::kInternal) when the tree cannot be read: a missing path, permissions, a file
  // over max_file_bytes, a directory that cannot be watched.
  Result<FileTreePass> read(DirectoryWatches& watches, const FileEntries* last) const;

  // The registry entries of a pass. Fails with ErrorCode::kInvalidConfig for a YAML file that
  // does not parse.
  Result<FileEntries> decode(FileTreePass pass) const;

 private:
  Result<void> read_directory(const std::filesystem::path& directory, const std::string& relative,
                              DirectoryWatches& watches, const FileEntries* last, FileTreePass& pass) const;
  Result<void> read_yaml(DirectoryWatches& watches, FileTreePass& pass) const;
  // Reads a whole file; nullopt when it was removed meanwhile (its delete event follows).
  Result<std::optional<std::string>> read_file(const std::filesystem::path& path) const;

  const FileOptions& options_;
  const FileOptions::Form form_;
  std::filesystem::path base_;
  std::string yaml_name_;  // the YAML file's name in base_
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
Result<FileEntries> yaml_to_entries(std::string_view text);

}  // namespace intake::sources
