#!/usr/bin/env bash
# Runs a benchmark by name and writes its results under bench/results/.
#   scripts/bench.sh key_lookup            Google Benchmark: key lookup 1k..100k keys, apply time, bytes/key
#   scripts/bench.sh config_propagation    Consul write → first request that sees it (starts peers itself)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

name="${1:-}"
mkdir -p "$INTAKE_ROOT/bench/results"
case "$name" in
  key_lookup)
    export CCACHE_DIR="${CCACHE_DIR:-$INTAKE_CACHE/ccache}" CCACHE_BASEDIR="$INTAKE_ROOT" CCACHE_NOHASHDIR=1
    cmake -S "$INTAKE_ROOT" -B "$INTAKE_ROOT/build/bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DINTAKE_BUILD_TESTS=OFF -DINTAKE_BUILD_BENCH=ON >/dev/null
    ninja -C "$INTAKE_ROOT/build/bench" key_lookup_bench
    json="$INTAKE_ROOT/bench/results/key_lookup.json"
    loads="$INTAKE_ROOT/bench/results/key_lookup.load.txt"
    # The machine's load while the benchmark runs (not when the report is written): one sample
    # of /proc/loadavg's 1-minute figure a second, read by report.py.
    : >"$loads"
    ( while sleep 1; do cut -d' ' -f1 /proc/loadavg >>"$loads"; done ) &
    sampler=$!
    "$INTAKE_ROOT/build/bench/bench/key_lookup_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_out="$json" --benchmark_out_format=json
    kill "$sampler" 2>/dev/null || true
    python3 "$INTAKE_ROOT/bench/key_lookup/report.py" "$json" "$INTAKE_ROOT/bench/results/key_lookup.md" \
      "scripts/bench.sh key_lookup" "$loads"
    cat "$INTAKE_ROOT/bench/results/key_lookup.md"
    ;;
  config_propagation)
    bash "$INTAKE_ROOT/scripts/build.sh" release
    python3 "$INTAKE_ROOT/bench/config_propagation/run.py"
    ;;
  *) die "usage: scripts/bench.sh key_lookup|config_propagation" ;;
esac
