// Micro-benchmarks of the per-request key path and of applying big registry trees:
//  - authenticate(): one SHA-256 of the presented secret plus one hash lookup, at 1k, 10k and
//    100k keys (the lookup should stay flat);
//  - the lookup alone, without the SHA-256;
//  - build_config() of a whole registry tree, at 1k, 10k and 100k keys (the apply time);
//  - memory per key, measured with mallinfo2 around building a 100k-key config.
// Run: scripts/bench.sh key_lookup  (writes bench/results/key_lookup.{json,md})
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <vector>

#include "config/builder.h"
#include "crypto/digest.h"
#include "policy/access.h"

namespace {

using intake::config::Config;
using intake::config::RawTree;

std::string secret_of(std::size_t i) { return "bench-secret-" + std::to_string(i); }

RawTree tree_with(std::size_t keys) {
  RawTree tree;
  tree.prefix = "intake/";
  tree.source = "bench";
  for (std::size_t i = 0; i < keys; ++i) {
    tree.entries.emplace("keys/key-" + std::to_string(i),
                         R"({"secret_sha256":")" + intake::crypto::to_hex(intake::crypto::sha256(secret_of(i))) +
                             R"(","topics":["events.*","logs.app-?"],"rate":{"per_sec":500,"burst":1000}})");
  }
  return tree;
}

std::shared_ptr<Config> config_with(std::size_t keys) {
  auto built = intake::config::build_config(tree_with(keys));
  if (!built) throw std::runtime_error(built.error().message);
  return built.value();
}

void BM_Authenticate(benchmark::State& state) {
  const auto keys = static_cast<std::size_t>(state.range(0));
  const auto config = config_with(keys);
  std::vector<std::string> secrets;
  for (std::size_t i = 0; i < 4096; ++i) secrets.push_back(secret_of((i * 7919) % keys));
  const auto now = std::chrono::system_clock::now();
  std::size_t i = 0;
  for (auto _ : state) {
    auto key = intake::policy::authenticate(*config, secrets[i++ & 4095], now);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_Authenticate)->Arg(1'000)->Arg(10'000)->Arg(100'000);

void BM_LookupOnly(benchmark::State& state) {
  const auto keys = static_cast<std::size_t>(state.range(0));
  const auto config = config_with(keys);
  std::vector<intake::crypto::Sha256> digests;
  for (std::size_t i = 0; i < 4096; ++i) digests.push_back(intake::crypto::sha256(secret_of((i * 7919) % keys)));
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(config->find_key(digests[i++ & 4095]));
}
BENCHMARK(BM_LookupOnly)->Arg(1'000)->Arg(10'000)->Arg(100'000);

void BM_BuildConfig(benchmark::State& state) {
  const auto tree = tree_with(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto built = intake::config::build_config(tree);
    benchmark::DoNotOptimize(built);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildConfig)->Arg(1'000)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_MemoryPerKey(benchmark::State& state) {
  for (auto _ : state) {
    const auto before = mallinfo2().uordblks;
    auto config = config_with(100'000);
    const auto after = mallinfo2().uordblks;
    state.counters["bytes_per_key"] = static_cast<double>(after - before) / 100'000.0;
    benchmark::DoNotOptimize(config);
  }
}
BENCHMARK(BM_MemoryPerKey)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
