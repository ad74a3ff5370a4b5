#!/usr/bin/env bash
# Runs a benchmark by name and writes its results under bench/results/.
#   scripts/bench.sh key_lookup            Google Benchmark: key lookup 1k..100k keys, apply time, bytes/key
#   scripts/bench.sh http_parse            Google Benchmark: HTTP/1.1 request parser candidates, ns and
#                                          allocations per request (docs/decisions/0008-http-parser.md)
#   scripts/bench.sh config_propagation    Consul write → first request that sees it (starts peers itself)
#   scripts/bench.sh peer [ARGS]           Intake vs nginx + lua-resty-kafka vs the floor (~8 min; starts its
#                                          own Kafka 3.9.2); rewrites BENCHMARKS.md's peer section.
#                                          ARGS go to bench/peer/run.py (--smoke: a minute of tiny load)
#   scripts/bench.sh soak [ARGS]           10 min at ~70% of Intake's maximum, config changed every second,
#                                          the broker restarted halfway (starts its own Kafka 3.9.2 on
#                                          19114); ARGS go to bench/soak/run.py (--minutes N)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

name="${1:-}"
shift || true
mkdir -p "$INTAKE_ROOT/bench/results"
# Builds a Google Benchmark target in Release, runs it (5 repetitions, aggregates only) while
# sampling the machine's load, and turns the JSON into bench/results/<name>.md with its report.py.
run_google_benchmark() {
  local bench="$1" target="$2"
  export CCACHE_DIR="${CCACHE_DIR:-$INTAKE_CACHE/ccache}" CCACHE_BASEDIR="$INTAKE_ROOT" CCACHE_NOHASHDIR=1
  cmake -S "$INTAKE_ROOT" -B "$INTAKE_ROOT/build/bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DINTAKE_BUILD_TESTS=OFF -DINTAKE_BUILD_BENCH=ON >/dev/null
  ninja -C "$INTAKE_ROOT/build/bench" "$target"
  local json="$INTAKE_ROOT/bench/results/$bench.json" loads="$INTAKE_ROOT/bench/results/$bench.load.txt"
  # The machine's load while the benchmark runs (not when the report is written): one sample
  # of /proc/loadavg's 1-minute figure a second, read by report.py.
  : >"$loads"
  ( while sleep 1; do cut -d' ' -f1 /proc/loadavg >>"$loads"; done ) &
  local sampler=$!
  "$INTAKE_ROOT/build/bench/bench/$target" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out="$json" --benchmark_out_format=json
  kill "$sampler" 2>/dev/null || true
  python3 "$INTAKE_ROOT/bench/$bench/report.py" "$json" "$INTAKE_ROOT/bench/results/$bench.md" \
    "scripts/bench.sh $bench" "$loads"
  cat "$INTAKE_ROOT/bench/results/$bench.md"
}

case "$name" in
  key_lookup)
    run_google_benchmark key_lookup key_lookup_bench
    ;;
  http_parse)
    # picohttpparser, one of the candidates, comes from a benchmark-only package.
    bash "$INTAKE_ROOT/scripts/deps.sh" bench_libs
    run_google_benchmark http_parse http_parse_bench
    ;;
  config_propagation)
    bash "$INTAKE_ROOT/scripts/build.sh" release
    python3 "$INTAKE_ROOT/bench/config_propagation/run.py"
    ;;
  peer)
    bash "$INTAKE_ROOT/scripts/build.sh" release
    bash "$INTAKE_ROOT/bench/peer/deps.sh"
    # Debian's python3: python3-matplotlib (the chart) is installed for it, not for another python3 on PATH.
    /usr/bin/python3 "$INTAKE_ROOT/bench/peer/run.py" --benchmarks "$INTAKE_ROOT/BENCHMARKS.md" \
      --command "scripts/bench.sh peer${*:+ $*}" "$@"
    ;;
  soak)
    bash "$INTAKE_ROOT/scripts/build.sh" release
    bash "$INTAKE_ROOT/bench/peer/deps.sh"  # wrk, the Kafka 3.9.2 jars
    /usr/bin/python3 "$INTAKE_ROOT/bench/soak/run.py" --command "scripts/bench.sh soak${*:+ $*}" "$@"
    ;;
  *) die "usage: scripts/bench.sh key_lookup|http_parse|config_propagation|peer|soak" ;;
esac
