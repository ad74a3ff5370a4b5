#include "sources/file_tree_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "config/yaml_json.h"

namespace intake::sources {

namespace fs = std::filesystem;

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string errno_text(int error) { return std::generic_category().message(error); }

Error read_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }
Error content_error(std::string message) { return make_error(ErrorCode::kInvalidConfig, std::move(message)); }

}  // namespace

bool is_editor_temp_name(std::string_view name) {
  return name.empty() || name.front() == '.' || name.front() == '#' || ends_with(name, "~") ||
         ends_with(name, ".swp") || ends_with(name, ".tmp");
}

Result<FileEntries> yaml_to_entries(std::string_view text) {
  FileEntries entries;
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.empty() || (documents.size() == 1 && documents[0].IsNull())) return entries;
    if (documents.size() > 1) return content_error("more than one YAML document");
    const YAML::Node& root = documents[0];
    if (!root.IsMap())
      return content_error(config::yaml_line_of(root) + ": the top level must map registry keys to values");
    for (const auto& item : root) {
      if (!item.first.IsScalar())
        return content_error(config::yaml_line_of(item.first) + ": a registry key must be a scalar");
      const std::string& key = item.first.Scalar();
      if (entries.count(key) != 0)
        return content_error(config::yaml_line_of(item.first) + ": duplicate key '" + key + "'");
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

FileTreeReader::FileTreeReader(const FileOptions& options, FileOptions::Form form) : options_(options), form_(form) {
  const fs::path path(options.path);
  if (form_ == FileOptions::Form::kDirectory) {
    base_ = path;
  } else {
    base_ = path.has_parent_path() ? path.parent_path() : fs::path(".");
    yaml_name_ = path.filename().string();
  }
}

Result<FileTreePass> FileTreeReader::read(DirectoryWatches& watches, const FileEntries* last) const {
  FileTreePass pass;
  const Result<void> done = form_ == FileOptions::Form::kDirectory ? read_directory(base_, "", watches, last, pass)
                                                                   : read_yaml(watches, pass);
  if (!done) return done.error();
  return pass;
}

Result<FileEntries> FileTreeReader::decode(FileTreePass pass) const {
  if (form_ == FileOptions::Form::kDirectory) return std::move(pass.entries);
  auto decoded = yaml_to_entries(pass.yaml_text);
  if (!decoded) return content_error(options_.path + ": " + decoded.error().message);
  return decoded;
}

Result<std::optional<std::string>> FileTreeReader::read_file(const fs::path& path) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return read_error("cannot read " + path.string() + ": " + errno_text(errno));
  }
  std::string content;
  std::array<char, std::size_t{64} * 1024> chunk;
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
    if (content.size() > options_.max_file_bytes) {
      ::close(fd);
      return read_error(path.string() + " is larger than " + std::to_string(options_.max_file_bytes) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(content));
}

// Watches `directory` (before listing it, so nothing created meanwhile is missed), then reads
// every entry below it into the pass.
Result<void> FileTreeReader::read_directory(const fs::path& directory, const std::string& relative,
                                            DirectoryWatches& watches, const FileEntries* last,
                                            FileTreePass& pass) const {
  if (auto watched = watches.watch_directory(directory, relative); !watched) return watched;
  std::error_code error;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (is_editor_temp_name(name)) continue;
    std::string key = relative;
    if (!key.empty()) key += '/';
    key += name;
    std::error_code gone;
    if (fs::is_directory(it->symlink_status(gone))) {
      if (auto below = read_directory(it->path(), key, watches, last, pass); !below) return below;
      continue;
    }
    if (!fs::is_regular_file(it->status(gone))) continue;  // fifo, socket, dangling link, vanished
    if (watches.being_written(key)) {                      // half-written: keep what was reported for it
      if (last != nullptr) {
        if (const auto kept = last->find(key); kept != last->end()) pass.entries.insert(*kept);
      }
      continue;
    }
    auto content = read_file(it->path());
    if (!content) return std::move(content).error();
    if (content.value()) {
      pass.read.insert(key);
      pass.entries.emplace(key, std::move(*content.value()));
    }
  }
  if (error) return read_error("cannot list " + directory.string() + ": " + error.message());
  return {};
}

Result<void> FileTreeReader::read_yaml(DirectoryWatches& watches, FileTreePass& pass) const {
  if (auto watched = watches.watch_directory(base_, ""); !watched) return watched;
  if (watches.being_written(yaml_name_)) {
    pass.keep_last = true;
    return {};
  }
  auto content = read_file(base_ / yaml_name_);
  if (!content) return std::move(content).error();
  if (!content.value()) return read_error("cannot read " + options_.path + ": " + errno_text(ENOENT));
  pass.read.insert(yaml_name_);
  pass.yaml_text = std::move(*content.value());
  return {};
}

}  // namespace intake::sources
