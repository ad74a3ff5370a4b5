// Builds a complete, validated Config from a registry's RawTree. All or nothing: any invalid
// entry rejects the whole update with an error naming the registry key and the problem, so a
// half-valid tree is never published.
//
// Layout under the prefix (docs/registry-layout.md):
//   keys/<key-id>        {"secret_sha256":"<64 hex>","topics":["events.*"],"enabled":true,
//                         "rate":{"per_sec":500,"burst":1000,"bytes_per_sec":1e6,"bytes_burst":2e6},
//                         "expires_at":"2027-01-31T23:59:59Z","signing_secret":"<16+ chars>"}
//   topics/<topic>       {"max_record_bytes":1048576,"mode":"async"|"sync"}
//   settings             {"default_mode":"async","max_record_bytes":1048576,"signature_window_s":300}
//   brokers/<host:port>  any value (the seed's layout); host:port as names/broker_address.h allows
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/raw_tree.h"
#include "error/result.h"

namespace intake::config {

// Returns the Config (version and applied_at left for the store to set) or an
// invalid_config error whose message starts with the full registry key.
Result<std::shared_ptr<Config>> build_config(const RawTree& tree);

// One bad entry of a tree: its full registry key ("intake/keys/team-a") and what is wrong.
struct EntryProblem {
  std::string key;
  std::string reason;
};

struct TreeReport {
  std::size_t entries_ok = 0;          // entries that build_config would accept
  std::vector<EntryProblem> problems;  // every other entry, in key order
};

// Judges every entry of the tree, not stopping at the first bad one (for `intake check-config
// --source`). build_config fails iff problems is not empty, with the first problem's message.
TreeReport check_tree(const RawTree& tree);

// Hex SHA-256 over the tree's entries in key order: equal content, equal hash.
std::string content_hash(const RawTree& tree);

}  // namespace intake::config
