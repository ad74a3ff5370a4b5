// EtcdSource: watches one etcd v3 key prefix (default "intake/") and reports the complete
// subtree after every change.
//
// How: a range read of the prefix gives the tree and its revision; a watch from revision+1
// then streams every change, applied to the local copy, and the whole tree is reported after
// each event batch (etcd never splits one revision, i.e. one transaction, across batches).
// When the watch is cancelled because its start revision was compacted, or on any error or
// disconnect, the source backs off (Backoff) and starts over with a fresh range read, so the
// registry's final state always wins.
//
// Why etcd's JSON gateway (POST /v3/kv/range, /v3/watch over HTTP/1.1) and not gRPC: no
// gRPC/protobuf toolchain or generated code among the build dependencies, one HTTP client
// (sources/http_client.h) for every registry, and plain HTTP/1.1 that proxies and curl
// understand. /v3/ is the path etcd 3.4 and 3.5 both serve (3.5 dropped /v3beta/). The
// gateway's quirks are handled in the decoders below: keys and values are base64, int64
// fields (revision, mod_revision) are JSON strings, fields at their default are omitted (a
// PUT event has no "type"), and the watch stream is one JSON object per message, each
// wrapped in {"result": ...}.
//
// Authentication (optional): POST /v3/auth/authenticate trades username/password for a token
// sent as the Authorization header; a rejected token (expired, or etcd restarted) is dropped
// and a new one fetched at once.
//
// Runs as one coroutine on the control io_context; stopping that context abandons the range
// read or watch in flight at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sources/etcd_decode.h"
#include "sources/etcd_options.h"
#include "sources/http_client.h"
#include "sources/source.h"
#include "sources/watch_support.h"

namespace intake::sources {

class EtcdSource final : public Source {
 public:
  // Throws std::invalid_argument for a bad options.address (start-up only).
  explicit EtcdSource(EtcdOptions options);

  std::string name() const override { return "etcd"; }
  void start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) override;
  SourceStats stats() const override { return stats_.snapshot(); }

 private:
  class Session;

  EtcdOptions options_;
  HttpEndpoint endpoint_;
  WatchStats stats_;
};

}  // namespace intake::sources
