// TlsReloader: keeps the listener's TLS context in step with its files. Every
// reload_interval_ms a background thread looks at the certificate, key and client CA files
// (inode, size, mtime); when any changed it builds a new context, and only a context that
// builds (readable files, key matching the certificate) replaces the one in force. New
// connections take the current context; open ones keep theirs. A rejected pair is logged (file
// names and OpenSSL's reason, never key material) and counted, and is not retried until the
// files change again.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "concurrency/snapshot_cell.h"
#include "http/server_options.h"
#include "http/tls_context.h"

namespace intake::http {

struct TlsCounters {
  std::atomic<std::uint64_t> reloads{0};          // contexts swapped in after a change
  std::atomic<std::uint64_t> reload_failures{0};  // changed files that did not build a context
  std::atomic<std::int64_t> not_after_s{0};       // the current certificate's notAfter, Unix seconds
};

class TlsReloader {
 public:
  // Builds the first context. Throws std::runtime_error saying what is wrong when it cannot
  // (start-up only).
  explicit TlsReloader(TlsOptions options);
  ~TlsReloader();
  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  // Starts the watcher thread. stop() ends it at once (it waits on a condition, not a sleep).
  void start();
  void stop();

  // The context new connections use.
  std::shared_ptr<const TlsContext> current() const { return current_.load(); }

  // One look at the files, as the watcher does: true iff a new context was swapped in.
  bool check_files();

  const TlsCounters& counters() const { return counters_; }

 private:
  // inode, size and mtime (ns) of each of the three files; 0s for one that cannot be stat'ed.
  using FileStamp = std::array<std::uint64_t, 9>;
  FileStamp stamp() const;

  TlsOptions options_;
  concurrency::SnapshotCell<TlsContext> current_;
  TlsCounters counters_;
  FileStamp seen_{};  // watcher thread only (and check_files callers)

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace intake::http
