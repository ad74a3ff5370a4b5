#!/usr/bin/env bash
# Builds Intake with CMake + Ninja into build/<flavour>.
#   scripts/build.sh release   optimised binary: build/release/src/intake
#   scripts/build.sh asan      Debug + AddressSanitizer + UndefinedBehaviorSanitizer (the test build)
#   scripts/build.sh tsan      Debug + ThreadSanitizer: the binary and the test executables the
#                              concurrency tests run from (tests/CMakeLists.txt, label tsan)
#   scripts/build.sh fuzz      the libFuzzer targets of tests/fuzz/ only, with clang 14, -O1 -g,
#                              ASan + UBSan (scripts/fuzz.sh runs them)
# Warnings are errors in all four.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

flavour="${1:-release}"
targets=()  # empty: everything
case "$flavour" in
  release) options=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) options=(-DCMAKE_BUILD_TYPE=Debug -DINTAKE_SANITIZE=ON) ;;
  tsan) options=(-DCMAKE_BUILD_TYPE=Debug -DINTAKE_TSAN=ON) targets=(intake unit_tests integration_tests) ;;
  # The sanitizer flags come from tests/fuzz/CMakeLists.txt (the fuzzer's differ per target).
  fuzz) options=(-DCMAKE_BUILD_TYPE=Debug -DINTAKE_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) die "unknown flavour '$flavour' (release, asan, tsan or fuzz)" ;;
esac
build_dir="$INTAKE_ROOT/build/$flavour"
# ccache outside the repo so a fresh clone still reuses earlier compiles on this machine.
export CCACHE_DIR="${CCACHE_DIR:-$INTAKE_CACHE/ccache}"
# Paths relative to the checkout, and no working directory in the hash (-g would add it), so
# a clone in another folder hits the same cache entries.
export CCACHE_BASEDIR="$INTAKE_ROOT" CCACHE_NOHASHDIR=1
cmake -S "$INTAKE_ROOT" -B "$build_dir" -G Ninja -DINTAKE_WERROR=ON "${options[@]}" >/dev/null
# Two cores: Beast translation units need ~1 GiB each; -j2 keeps memory and time in check.
ninja -C "$build_dir" -j "${INTAKE_BUILD_JOBS:-$(nproc)}" "${targets[@]}"
