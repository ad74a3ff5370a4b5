#!/usr/bin/env bash
# The whole test suite, from nothing: installs what is missing, builds the sanitizer build,
# starts the real peers (Kafka, Consul, etcd, ZooKeeper) on 127.0.0.1, runs every test with
# ctest, and stops the peers it started. Exit code 0 iff every test passed.
#   scripts/test.sh              everything, then the fuzz step (scripts/fuzz.sh ci), then the lint
#                                step (scripts/lint.sh)
#   scripts/test.sh -L unit      extra arguments go to ctest (here: unit tests only)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
started_at=$SECONDS

bash "$INTAKE_ROOT/scripts/deps.sh"
bash "$INTAKE_ROOT/scripts/build.sh" asan
bash "$INTAKE_ROOT/scripts/build.sh" tsan

PEERS=(kafka consul etcd zookeeper)
started=()
stop_started_peers() {
  local peer
  for peer in "${started[@]}"; do bash "$INTAKE_ROOT/scripts/peers/$peer.sh" stop || true; done
}
trap stop_started_peers EXIT
for peer in "${PEERS[@]}"; do
  # A peer someone else started (e.g. scripts/run.sh) is used as it is and left running.
  if ! bash "$INTAKE_ROOT/scripts/peers/$peer.sh" status >/dev/null 2>&1; then
    bash "$INTAKE_ROOT/scripts/peers/$peer.sh" start
    started+=("$peer")
  fi
done
peers_env

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$INTAKE_ROOT/tests/lsan.supp}"
status=0
ctest --test-dir "$INTAKE_ROOT/build/asan" --output-on-failure -j "$(nproc)" "$@" || status=$?
# The concurrency tests again, in the ThreadSanitizer build (tests/CMakeLists.txt, label tsan).
# Skipped only when ctest was given a filter that is not about them.
if (($# == 0)) || [[ "$*" == *tsan* ]]; then
  TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1 suppressions=$INTAKE_ROOT/tests/tsan/tsan.supp}" \
    ctest --test-dir "$INTAKE_ROOT/build/tsan" --output-on-failure -j "$(nproc)" -L tsan || status=$?
fi
# The fuzz step (scripts/fuzz.sh ci): every libFuzzer target of tests/fuzz/ for
# INTAKE_FUZZ_SECONDS (default 30) each, two at a time, in its own clang build (build/fuzz); a
# crash, leak or sanitizer report fails the command. Skipped, like lint, when ctest was given
# a filter.
if (($# == 0)); then
  fuzz_status=0
  bash "$INTAKE_ROOT/scripts/fuzz.sh" ci || fuzz_status=$?
  ((fuzz_status == 0)) || { log "fuzzing found a problem (inputs under build/fuzz/tests/fuzz/ci/*/artifacts/)"; status=1; }
fi
# The lint step (include rules, clang-format, clang-tidy), after the tests so it never competes
# with them for the two cores; a finding fails the command like a failed test. Skipped only when
# ctest was given a filter (scripts/test.sh -L unit and the like).
if (($# == 0)); then
  lint_status=0
  bash "$INTAKE_ROOT/scripts/lint.sh" "$INTAKE_ROOT/build/asan" || lint_status=$?
  ((lint_status == 0)) || { log "lint failed"; status=1; }
fi
log "test command took $((SECONDS - started_at)) s"
exit $status
