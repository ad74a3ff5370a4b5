// Consul HTTP API access for sources: the blocking-query loop every Consul watcher shares.
// Internal to sources/.
//
// The loop follows Consul's rules for blocking queries (docs/decisions/0003-consul-watch.md):
//  - the index to send next is the X-Consul-Index *header*, not the body's max ModifyIndex
//    (a delete only moves the header);
//  - an index that goes backwards (Consul restarted with fresh data, snapshot restore) is
//    taken as is — the answer is current — and an index below 1 is sent as 1, so a
//    misbehaving server cannot make us spin on non-blocking answers;
//  - the client timeout is wait * 17/16 plus a margin, since Consul adds up to wait/16 jitter;
//  - any failure backs off with jitter, 250 ms doubling to 30 s, reset after a success;
//  - an answer its owner could not decode does not move the index: the next request (after
//    the backoff) sends the old index again, so Consul answers at once with that same
//    snapshot instead of blocking until the content changes (it would never be seen again).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "sources/http_client.h"
#include "sources/watch_support.h"

namespace intake::sources {

// Sends one request to the agent and returns the whole answer.
using ConsulTransport =
    std::function<boost::asio::awaitable<Result<HttpAnswer>>(const HttpCall& call, std::chrono::milliseconds timeout)>;

struct ConsulEndpoint {
  HttpEndpoint http{"127.0.0.1", 8500};
  std::string token;          // X-Consul-Token; empty = none
  ConsulTransport transport;  // empty = http_call to `http`; tests put a fake agent here
};

// Parses "http://host:port" (or "host:port"). Throws std::invalid_argument (start-up only).
ConsulEndpoint parse_consul_address(const std::string& address, std::string token);

struct BlockingQuery {
  std::string path;  // e.g. "/v1/kv/intake/?recurse=true" (index and wait are appended)
  std::chrono::milliseconds wait{300'000};
};

// What the loop hands to its owner for each answer that moved the index (and the first).
// Returning an error counts as a failed request (backoff, index kept).
using AnswerHandler = std::function<Result<void>(const HttpAnswer& answer, std::uint64_t index)>;

// Runs until the context stops. Reports transport failures through `on_error`.
boost::asio::awaitable<void> run_blocking_query(ConsulEndpoint endpoint, BlockingQuery query, WatchStats& stats,
                                                AnswerHandler on_answer,
                                                std::function<void(const std::string&)> on_error);

// The index to send after an answer carrying `header_index` (see the rules above).
std::uint64_t next_index(std::uint64_t header_index);

// The index to send after an answer carrying `header_index` to a request that sent `sent`
// (0 = none), when its owner could not use the answer: `sent` again, so the same snapshot is
// read again at once; or 0 when the index went backwards, since blocking on an index the agent
// has not reached would wait a whole `wait` for nothing.
std::uint64_t index_after_unusable_answer(std::uint64_t sent, std::uint64_t header_index);

}  // namespace intake::sources
