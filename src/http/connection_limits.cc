#include "http/connection_limits.h"

namespace intake::http {

Admission ConnectionCaps::admit(const ClientAddress& client) {
  if (max_connections_ > 0 && open_.load(std::memory_order_relaxed) >= max_connections_) {
    return Admission::kOverGlobalCap;
  }
  const std::lock_guard lock(mutex_);
  auto& count = per_client_[client];
  if (max_per_client_ > 0 && count >= max_per_client_) {
    if (count == 0) per_client_.erase(client);
    return Admission::kOverClientCap;
  }
  // Checked again under the lock so concurrent accepts on two workers cannot both pass the cap.
  if (max_connections_ > 0 && open_.load(std::memory_order_relaxed) >= max_connections_) {
    if (count == 0) per_client_.erase(client);
    return Admission::kOverGlobalCap;
  }
  ++count;
  open_.fetch_add(1, std::memory_order_relaxed);
  return Admission::kAdmitted;
}

void ConnectionCaps::release(const ClientAddress& client) {
  const std::lock_guard lock(mutex_);
  auto it = per_client_.find(client);
  if (it == per_client_.end()) return;
  if (--it->second == 0) per_client_.erase(it);
  open_.fetch_sub(1, std::memory_order_relaxed);
}

bool BodyBudget::reserve(std::size_t bytes) {
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (held + bytes > max_bytes_) return false;
  } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

}  // namespace intake::http
