#!/usr/bin/env bash
# Runs one fuzz target on a copy of its seed corpus, for ctest (tests/fuzz/CMakeLists.txt) and
# scripts/fuzz.sh. Never writes into the source tree: the corpus copy, new inputs and any
# crash file go to <work-dir>. Exit status: libFuzzer's, non-zero on a crash, a leak, a
# timeout, an out-of-memory or a UBSan report.
#   run_target.sh <fuzzer> <seed-corpus-dir> <work-dir> [more libFuzzer flags]
# INTAKE_FUZZ_SECONDS (default 30): how long it runs.
set -euo pipefail
fuzzer="$1" seeds="$2" work="$3"
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -R "$seeds/." "$work/corpus/"
args=(-max_total_time="${INTAKE_FUZZ_SECONDS:-30}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
      -artifact_prefix="$work/artifacts/")
dict="$(dirname "$seeds")/../$(basename "$seeds").dict"
[[ -f "$dict" ]] && args+=(-dict="$dict")
exec "$fuzzer" "${args[@]}" "$@" "$work/corpus"
