#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (docs/reliability.md, "Fuzzing"), built by
# scripts/build.sh fuzz into build/fuzz.
#   scripts/fuzz.sh ci                    builds, then runs every target as a ctest (label fuzz) for
#                                         INTAKE_FUZZ_SECONDS (default 30) each, two at a time
#   scripts/fuzz.sh long <seconds> [target...]
#                                         runs each target (default: all) for <seconds> on one core,
#                                         one after another, on a corpus kept in build/fuzz/long/
#                                         across runs; writes build/fuzz/fuzz-results.tsv and prints
#                                         a Markdown table (this run, and totals over every long run)
# A crash, leak, timeout or sanitizer report fails the command; the input that caused it is in
# build/fuzz/{ci,long}/<target>/artifacts/.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mode="${1:-ci}"
build_dir="$INTAKE_ROOT/build/fuzz"
fuzz_dir="$INTAKE_ROOT/tests/fuzz"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

bash "$INTAKE_ROOT/scripts/build.sh" fuzz

case "$mode" in
  ci)
    ctest --test-dir "$build_dir" --output-on-failure -L fuzz -j 2
    ;;
  long)
    seconds="${2:?usage: scripts/fuzz.sh long <seconds-per-target> [target...]}"
    shift 2
    targets=("$@")
    if ((${#targets[@]} == 0)); then
      mapfile -t targets < <(find "$build_dir/tests/fuzz" -maxdepth 1 -name '*_fuzz' -type f -printf '%f\n' |
                             sed 's/_fuzz$//' | sort)
    fi
    results="$build_dir/fuzz-results.tsv"
    history="$build_dir/fuzz-history.tsv"  # one line per target per long run, for the totals
    [[ -f "$history" ]] || printf 'date\ttarget\tseconds\texecutions\n' >"$history"
    printf 'target\tseconds\texecutions\texec_per_s\tcorpus_files\tfindings\ttotal_executions\n' >"$results"
    status=0
    for target in "${targets[@]}"; do
      work="$build_dir/long/$target"
      mkdir -p "$work/corpus" "$work/artifacts"
      # New seeds join the kept corpus; what the fuzzer found before stays.
      cp -Rn "$fuzz_dir/corpus/$target/." "$work/corpus/"
      args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
            -artifact_prefix="$work/artifacts/")
      [[ -f "$fuzz_dir/$target.dict" ]] && args+=(-dict="$fuzz_dir/$target.dict")
      log "$target: ${seconds} s"
      rc=0
      "$build_dir/tests/fuzz/${target}_fuzz" "${args[@]}" "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?
      ((rc == 0)) || { log "$target: finding (exit $rc), see $work/fuzz.log"; status=1; }
      executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)"
      rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)"
      corpus="$(find "$work/corpus" -type f | wc -l)"
      findings="$(find "$work/artifacts" -type f | wc -l)"
      printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$seconds" "${executions:-0}" >>"$history"
      total="$(awk -F'\t' -v t="$target" '$2 == t { s += $4 } END { print s + 0 }' "$history")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$seconds" "${executions:-0}" "${rate:-0}" "$corpus" \
        "$findings" "$total" >>"$results"
    done
    python3 - "$results" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
print("| " + " | ".join(rows[0]) + " |")
print("|" + "---|" * len(rows[0]))
for row in rows[1:]:
    print("| " + " | ".join(row) + " |")
PY
    exit $status
    ;;
  *) die "unknown mode '$mode' (ci or long <seconds>)" ;;
esac
