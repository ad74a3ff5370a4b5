// The access log: one structured line per sampled answered request (logging.access_log), fed by
// the server's request observer. Sampling is decided per worker with a PRNG of its own, so an
// unsampled request costs one random number and no lock; a line is written only when sampled.
// Method, path (never the query), route, status, duration, body size and client address —
// never a header.
#pragma once

#include <cstdint>
#include <memory>

#include "http/request_observer.h"

namespace intake::ops {

class AccessLog final : public http::RequestObserver {
 public:
  // `sample_rate` in [0, 1]; with any rate above 0, answers with a 5xx status are always
  // written (they are what an operator reads the access log for).
  AccessLog(double sample_rate, unsigned workers);
  ~AccessLog() override;

  void on_answered(const http::AnsweredRequest& answered) noexcept override;

  // The decision on_answered makes, for tests: the n-th draw of `worker`.
  bool sampled(unsigned worker, int status) noexcept;

 private:
  struct alignas(64) Shard {
    std::uint64_t state;
  };
  std::uint64_t threshold_;  // a draw below it is sampled
  bool enabled_;
  unsigned workers_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace intake::ops
