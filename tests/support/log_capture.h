// Captures what the gateway logs through spdlog's default logger, in one of the structured
// formats, for unit tests: the default logger is swapped for one writing to memory while the
// capture lives, and put back (with its level) when it ends.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "logging/structured.h"

namespace intake::testing {

class LogCapture {
 public:
  explicit LogCapture(logging::LogFormat format, spdlog::level::level_enum level = spdlog::level::info)
      : saved_(spdlog::default_logger()), saved_level_(spdlog::get_level()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_formatter(logging::make_formatter(format));
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() {
    spdlog::set_default_logger(saved_);
    spdlog::drop("capture");  // the registry would keep it, and its sink's reference to text_
    spdlog::set_level(saved_level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return text_.str(); }
  // Every line written so far, without its '\n'.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(text_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> saved_;
  spdlog::level::level_enum saved_level_;
};

}  // namespace intake::testing
