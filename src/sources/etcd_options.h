// etcd's options (the YAML's config.etcd) and the EtcdSource's timings. Plain values with
// defaults; filled by config/static_config.cc, the only code that knows YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace intake::sources {

struct EtcdOptions {
  std::string address = "http://127.0.0.1:2379";  // "http://host:port" or "host:port"
  std::string prefix = "intake/";                 // a '/' is appended when missing
  std::string username;                           // empty = no authentication
  std::string password;
  // Not set by the YAML.
  std::chrono::milliseconds request_timeout{10'000};
  // A silent watch is taken as dead after this long. The watch asks for progress
  // notifications, which etcd sends every 10 minutes by default on an idle watch.
  std::chrono::milliseconds watch_idle_timeout{15 * 60'000};
  std::uint32_t page_keys = 10'000;  // the range read fetches this many keys per request
};

}  // namespace intake::sources
