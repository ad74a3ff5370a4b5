#!/usr/bin/env bash
# The lint step (part of scripts/test.sh, so CI runs it): fails on any finding.
#   1. include rules: which module may include which (scripts/lint/include_rules.sh)
#   2. clang-format: every C++ file in src/ tests/ bench/ laid out as .clang-format says
#   3. clang-tidy: the checks in .clang-tidy over src/ and bench/, with the asan build's flags
# Usage: scripts/lint.sh [build-dir]   (default build/asan; it must have compile_commands.json)
# clang-tidy results are cached per translation unit under $INTAKE_CACHE/lint, keyed by the
# file, every project header, .clang-tidy and the tool's version, so an unchanged tree re-lints
# in seconds and any change that could add a finding is linted again.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_dir="${1:-$INTAKE_ROOT/build/asan}"
[[ -f "$build_dir/compile_commands.json" ]] || die "no $build_dir/compile_commands.json: run scripts/build.sh asan first"
cd "$INTAKE_ROOT"
failed=0

log "include rules"
bash scripts/lint/include_rules.sh || failed=1

log "clang-format"
mapfile -t cxx_files < <(git ls-files -co --exclude-standard -- 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc' 'bench/*.h')
if ! clang-format --dry-run --Werror "${cxx_files[@]}" 2>"$INTAKE_CACHE/clang-format.out"; then
  grep -E '^[^ ].*: (error|warning):' "$INTAKE_CACHE/clang-format.out" | sed -E 's/:[0-9]+:[0-9]+: .*//' | sort -u >&2
  log "clang-format: the files above differ from .clang-format; fix with: clang-format -i <file>"
  failed=1
fi

log "clang-tidy"
cache_dir="$INTAKE_CACHE/lint"
mkdir -p "$cache_dir"
shared_hash="$( { clang-tidy --version; cat .clang-tidy; git ls-files -co --exclude-standard -- 'src/*.h' 'bench/*.h' | sort | xargs cat; } | sha256sum | cut -c1-32)"
# The project's own .cc files that the build compiles (compile_commands.json has their flags).
mapfile -t tidy_files < <(python3 - "$build_dir/compile_commands.json" "$INTAKE_ROOT" <<'PY'
import json, os, sys
root = os.path.realpath(sys.argv[2])
for entry in json.load(open(sys.argv[1])):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, root)
    if rel.startswith(("src/", "bench/")) and rel.endswith(".cc"):
        print(rel)
PY
)
tidy_one() {
  local file="$1" key
  key="$(cat "$file" | sha256sum | cut -c1-32)-$shared_hash"
  [[ -f "$cache_dir/$key.ok" ]] && return 0
  # The compile commands are g++'s: its warning flags mean nothing to clang (not a finding);
  # clang has no g++ sanitizer headers (the checks do not depend on sanitizing); and Boost 1.74
  # detects C++20 coroutines only in g++, so clang is told they are there; librdkafka's
  # rd_kafka_producev macros are GNU statement expressions, which clang's -Wpedantic names.
  if clang-tidy --quiet -p "$build_dir" --extra-arg=-Wno-unknown-warning-option --extra-arg=-fno-sanitize=all \
      --extra-arg=-Wno-gnu-statement-expression \
      --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT --extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE \
      "$file" >"$cache_dir/$key.out" 2>&1; then
    touch "$cache_dir/$key.ok"
  else
    grep -E 'warning:|error:' "$cache_dir/$key.out" >&2 || cat "$cache_dir/$key.out" >&2
    return 1
  fi
}
export -f tidy_one
export cache_dir shared_hash build_dir
if ! printf '%s\n' "${tidy_files[@]}" | xargs -P "$(nproc)" -I{} bash -c 'tidy_one "$@"' _ {}; then
  log "clang-tidy: findings above (.clang-tidy lists the checks; fix them, or justify a NOLINT(check) on the line)"
  failed=1
fi

((failed == 0)) && log "lint clean" || log "lint failed"
exit $failed
