// What the listener lets an open network hold: open connections (in all and per client
// address) and the bytes of bodies held in memory. Shared by every worker thread; touched once
// per connection (caps) or once per large body (budget), never per ordinary request.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace intake::http {

// An IPv4 or IPv6 address as 16 bytes (IPv4 mapped), for counting.
using ClientAddress = std::array<std::uint8_t, 16>;

enum class Admission : std::uint8_t { kAdmitted, kOverGlobalCap, kOverClientCap };

class ConnectionCaps {
 public:
  // 0 = no cap.
  ConnectionCaps(std::uint32_t max_connections, std::uint32_t max_per_client)
      : max_connections_(max_connections), max_per_client_(max_per_client) {}

  // Counts the connection if both caps allow it. An admitted connection must be released once.
  Admission admit(const ClientAddress& client);
  void release(const ClientAddress& client);

  std::uint32_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  const std::uint32_t max_connections_;
  const std::uint32_t max_per_client_;
  std::atomic<std::uint32_t> open_{0};
  std::mutex mutex_;  // guards per_client_; taken on accept and close only
  absl::flat_hash_map<ClientAddress, std::uint32_t> per_client_;
};

// Bytes of request bodies held outside the connections' own read buffers.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // Takes `bytes` if they fit; false leaves the budget untouched.
  bool reserve(std::size_t bytes);
  void release(std::size_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }
  std::size_t held() const { return held_.load(std::memory_order_relaxed); }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  const std::size_t max_bytes_;
  std::atomic<std::size_t> held_{0};
};

}  // namespace intake::http
