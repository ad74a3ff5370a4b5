// ConfigStore: holds the current Config snapshot and swaps it atomically, keeps the last
// rejected update for operators, and tells listeners about each publish.
//
// Thread-safety: current() never waits for the control path: it is one atomic shared_ptr load
// (libstdc++ 12 implements it with a spin bit held for a reference-count increment, not a
// mutex a publisher could hold while it builds). current_for_request() is the request path:
// one atomic integer load while no publish happens (each thread keeps the snapshot it last saw
// and reloads it only after a publish). publish/reject/listen take a mutex: they are the cold
// control path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "concurrency/snapshot_cell.h"
#include "config/config.h"

namespace intake::config {

struct RejectedUpdate {
  std::string source;
  std::string revision;
  std::string error;  // names the registry key and the problem
  std::chrono::system_clock::time_point at{};
};

// A registry answer that built but would remove every API key the config in force has (a
// deleted prefix, a misrouted agent's empty answer): held back, unless config.allow_empty_tree.
struct HeldUpdate {
  std::string source;
  std::string revision;                           // of the latest held answer
  std::string content_hash;                       // of the latest held answer: a repeat of it is not counted again
  std::string reason;                             // what it would have done, for operators; no secrets
  std::chrono::system_clock::time_point since{};  // when the hold began
};

struct StoreCounters {
  std::uint64_t published = 0;
  std::uint64_t rejected = 0;
  std::uint64_t unchanged = 0;  // updates whose content equalled the config in force
  std::uint64_t held = 0;       // distinct registry answers held back as empty trees
};

class ConfigStore {
 public:
  ConfigStore();

  // The snapshot in force. Never null (an empty Config before the first publish).
  std::shared_ptr<const Config> current() const { return current_.load(); }

  // The snapshot in force, for one request: this thread's copy of it, reloaded only when this
  // store has published since this thread last asked, or the thread asked another store since.
  // The reference stays valid until this thread next calls current_for_request() on any store,
  // so nothing taken from it may outlive the request; the control path, and anything that keeps
  // a snapshot, uses current(). The thread's copy keeps a replaced snapshot alive until the
  // thread's next request.
  const Config& current_for_request() const { return current_.read_on_this_thread(); }

  // Sets version and applied_at on `next`, makes it current, then calls the listeners.
  // Returns the new version.
  std::uint64_t publish(std::shared_ptr<Config> next);

  // Records an update that failed validation; the config in force stays.
  void reject(RejectedUpdate rejected);

  // Counts an update whose content equalled the config in force (nothing published).
  void note_unchanged();

  // Records that the registry's latest answer is held back (the config in force stays) and
  // counts it, unless its content equals the answer already held. Keeps `since` of a hold
  // in progress. Returns true if it was counted (a new hold or a different empty answer).
  bool hold(HeldUpdate held);
  // The registry's latest answer is not held (it applied or was rejected): the hold ends.
  // Returns true if one was in progress.
  bool clear_hold();

  std::optional<RejectedUpdate> last_rejected() const;
  std::optional<HeldUpdate> held() const;
  StoreCounters counters() const;

  // `listener` runs after every publish, on the publishing thread, with the new snapshot.
  // REQUIRES: called before the first publish that it should see.
  void on_publish(std::function<void(const Config&)> listener);

  // `preparer` runs on every publish just before the snapshot becomes current, so state kept
  // beside the snapshot (e.g. rate buckets by key id) is ready for the first request that
  // sees it. REQUIRES: called before the first publish that it should see.
  void before_publish(std::function<void(const Config&)> preparer);

 private:
  concurrency::SnapshotCell<Config> current_;
  mutable std::mutex mutex_;  // guards everything below
  std::uint64_t last_version_ = 0;
  std::optional<RejectedUpdate> last_rejected_;
  std::optional<HeldUpdate> held_;
  StoreCounters counters_;
  std::vector<std::function<void(const Config&)>> preparers_;
  std::vector<std::function<void(const Config&)>> listeners_;
};

}  // namespace intake::config
