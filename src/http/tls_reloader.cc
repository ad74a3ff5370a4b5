#include "http/tls_reloader.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <chrono>
#include <stdexcept>
#include <utility>

namespace intake::http {
namespace {

std::shared_ptr<const TlsContext> first_context(const TlsOptions& options) {
  auto built = make_tls_context(options);
  if (!built) throw std::runtime_error(built.error().message);
  return std::move(built).value();
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

}  // namespace

TlsReloader::TlsReloader(TlsOptions options) : options_(std::move(options)), current_(first_context(options_)) {
  seen_ = stamp();
  counters_.not_after_s.store(unix_seconds(current_.load()->not_after));
}

TlsReloader::~TlsReloader() { stop(); }

TlsReloader::FileStamp TlsReloader::stamp() const {
  FileStamp stamp{};
  const std::string* files[] = {&options_.cert_file, &options_.key_file, &options_.client_ca_file};
  for (std::size_t i = 0; i < 3; ++i) {
    struct stat info {};
    if (files[i]->empty() || ::stat(files[i]->c_str(), &info) != 0) continue;
    stamp[i * 3] = info.st_ino;
    stamp[i * 3 + 1] = static_cast<std::uint64_t>(info.st_size);
    stamp[i * 3 + 2] = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000u +
                       static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
  }
  return stamp;
}

bool TlsReloader::check_files() {
  const FileStamp now = stamp();
  if (now == seen_) return false;
  seen_ = now;
  auto built = make_tls_context(options_);
  if (!built) {
    counters_.reload_failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("tls: the changed certificate files were rejected, the previous certificate stays in force: {}",
                  built.error().message);
    return false;
  }
  auto next = std::move(built).value();
  spdlog::info("tls: now serving certificate sha256:{} (cert_file {})", next->cert_sha256, options_.cert_file);
  counters_.not_after_s.store(unix_seconds(next->not_after));
  current_.store(std::move(next));
  counters_.reloads.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void TlsReloader::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (wake_.wait_for(lock, std::chrono::milliseconds(options_.reload_interval_ms), [this] { return stopping_; })) {
        break;
      }
      lock.unlock();
      check_files();
      lock.lock();
    }
  });
}

void TlsReloader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace intake::http
