// The file source's options (the YAML's config.file) and its timings and limits. Plain values
// with defaults; filled by config/static_config.cc, the only code that knows YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace intake::sources {

struct FileOptions {
  enum class Form { kAuto, kDirectory, kYaml };

  std::string path;  // a YAML file, or a directory mirroring the registry layout
  // Not set by the YAML.
  Form form = Form::kAuto;  // kAuto: a directory at start() is kDirectory, anything else kYaml
  std::chrono::milliseconds debounce{10};
  std::uint64_t max_file_bytes = std::uint64_t{16} * 1024 * 1024;
};

}  // namespace intake::sources
