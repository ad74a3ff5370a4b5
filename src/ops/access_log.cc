#include "ops/access_log.h"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address_v6.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "http/router.h"
#include "logging/structured.h"

namespace intake::ops {
namespace {

// splitmix64: small state, good spread, no lock: each worker has its own.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string client_text(const http::ClientAddress* client) {
  if (client == nullptr) return {};
  const boost::asio::ip::address_v6 address(*client);
  return address.is_v4_mapped() ? boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address).to_string()
                                : address.to_string();
}

}  // namespace

AccessLog::AccessLog(double sample_rate, unsigned workers)
    : enabled_(sample_rate > 0), workers_(std::max(1u, workers)), shards_(std::make_unique<Shard[]>(workers_)) {
  const double rate = std::clamp(sample_rate, 0.0, 1.0);
  threshold_ =
      rate >= 1.0 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(std::ldexp(rate, 64));
  for (unsigned i = 0; i < workers_; ++i) shards_[i].state = 0x1234567ULL * (i + 1);
}

AccessLog::~AccessLog() = default;

bool AccessLog::sampled(unsigned worker, int status) noexcept {
  if (!enabled_) return false;
  if (status >= 500) return true;
  if (threshold_ == std::numeric_limits<std::uint64_t>::max()) return true;
  return next_random(shards_[worker % workers_].state) < threshold_;
}

void AccessLog::on_answered(const http::AnsweredRequest& answered) noexcept {
  if (!sampled(answered.worker, answered.status) || !spdlog::should_log(spdlog::level::info)) return;
  try {
    const std::string client = client_text(answered.client);
    const double duration_ms = std::chrono::duration<double, std::milli>(answered.duration).count();
    logging::event(spdlog::level::info,
                   "access: " + std::string(http::method_name(answered.method)) + " " + std::string(answered.path) +
                       " " + std::to_string(answered.status),
                   {{"event", std::string_view("access")},
                    {"method", http::method_name(answered.method)},
                    {"path", answered.path},
                    {"route", answered.route},
                    {"status", static_cast<std::int64_t>(answered.status)},
                    {"duration_ms", duration_ms},
                    {"body_bytes", answered.body_bytes},
                    {"client", std::string_view(client)}});
  } catch (...) {
    // A log line that cannot be written (out of memory) must not take the request with it.
  }
}

}  // namespace intake::ops
