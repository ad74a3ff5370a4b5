// Decoders of Consul's answers (KV tree, service health), pure functions apart from the
// watching sources (sources/consul_kv.h, sources/consul_health.h) that call them.
#pragma once

#include <string>
#include <vector>

#include "config/raw_tree.h"
#include "error/result.h"
#include "sources/http_answer.h"

namespace intake::sources {

// Decodes a /v1/kv/<prefix>?recurse answer (a JSON array, or the 404 of an empty prefix) into
// a tree of keys relative to `prefix` (its source and revision left for the caller to set).
Result<config::RawTree> decode_kv_answer(const HttpAnswer& answer, const std::string& prefix);

struct HealthInstances {
  std::vector<std::string> brokers;  // sorted unique broker addresses of the usable instances
  std::vector<std::string> skipped;  // for each instance left out: which one, and why
};

// Decodes a /v1/health/service answer. Fails when the answer as a whole cannot be read (not a
// JSON array); unusable instances go to `skipped`.
Result<HealthInstances> decode_health_answer(const std::string& body);

}  // namespace intake::sources
