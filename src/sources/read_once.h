// One-shot reads of the registry tree, for `intake check-config --source`: the watcher the
// gateway would run (make_tree_source) is started once, its first complete tree taken and the
// watcher stopped, so the tree is fetched and decoded by exactly the code `intake run` uses.
#pragma once

#include <chrono>
#include <memory>

#include "config/raw_tree.h"
#include "error/result.h"
#include "sources/registry_options.h"
#include "sources/source.h"

namespace intake::sources {

// The source that holds the keys for `registry.source` (Consul KV, etcd, ZooKeeper, file), or
// nullptr for none. Throws std::invalid_argument for a bad address or root (start-up only).
std::unique_ptr<Source> make_tree_source(const RegistryOptions& registry);

// Starts `source`, returns its first tree, and stops it. The first error the source reports
// (it would retry it) ends the read, as does `timeout` without a tree; either is an Error
// (code internal) saying what went wrong. Blocks the calling thread; returns within
// `timeout` plus the source's stop() time.
Result<config::RawTree> read_tree_once(Source& source, std::chrono::milliseconds timeout);

}  // namespace intake::sources
