// Decoders of etcd's JSON gateway answers (range reads, watch messages), pure functions apart
// from the watching source (sources/etcd.h, which explains the gateway's quirks they handle).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "error/result.h"

namespace intake::sources {

// The end of the key range holding every key that starts with `prefix`: the prefix with its
// last byte below 0xff incremented ("intake/" -> "intake0"); "\0" (= no end) for an empty
// or all-0xff prefix.
std::string etcd_prefix_range_end(std::string_view prefix);

struct EtcdRangePage {
  std::int64_t revision = 0;                   // header.revision: the store's revision the page was read at
  bool more = false;                           // the range was cut by its limit
  std::string last_key;                        // the last key of this page (full, decoded)
  std::map<std::string, std::string> entries;  // its keys under the prefix, relative to it
};

// Decodes a /v3/kv/range answer; keys outside `prefix` are left out of `entries`.
Result<EtcdRangePage> decode_etcd_range(std::string_view body, const std::string& prefix);

struct EtcdEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;  // full, decoded
  std::string value;
  std::int64_t mod_revision = 0;
};

// One message of the /v3/watch stream.
struct EtcdWatchMessage {
  std::int64_t revision = 0;  // header.revision; absent (0) on some cancellations
  bool created = false;       // the confirmation that opens the stream
  bool canceled = false;
  std::int64_t compact_revision = 0;  // > 0: the start revision was compacted away
  std::string cancel_reason;
  std::string error;  // an {"error": ...} message of the gateway itself
  std::vector<EtcdEvent> events;
};

// Decodes one JSON text of the watch stream. An {"error": ...} message of the gateway is a
// message (its `error` set), not a failure to decode.
Result<EtcdWatchMessage> decode_etcd_watch_message(std::string_view json_text);

// Applies `events` in order to `entries` (keys relative to `prefix`; other keys ignored).
void apply_etcd_events(const std::vector<EtcdEvent>& events, const std::string& prefix,
                       std::map<std::string, std::string>& entries);

}  // namespace intake::sources
