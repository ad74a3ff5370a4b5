#!/usr/bin/env bash
# Installs everything Intake needs to build and test, idempotently: Debian packages for the
# build, then each real peer (Kafka jars via mvn, Consul built with go, etcd, ZooKeeper).
#   scripts/deps.sh            build deps + all peers
#   scripts/deps.sh build      build deps only
#   scripts/deps.sh kafka consul   build deps + the named peers
#   scripts/deps.sh bench      build deps + the benchmarks' libraries (bench_libs below) + what the peer
#                              benchmark needs (bench/peer/deps.sh: nginx, lua-resty-kafka, wrk, matplotlib,
#                              perf, Kafka 3.9.2 jars), also part of "all"
#   scripts/deps.sh bench_libs build deps + the benchmarks' libraries only
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache curl
  librdkafka-dev libboost-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev
  libabsl-dev libsimdjson-dev libzookeeper-mt-dev libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libzstd-dev
)
# The lint step (scripts/lint.sh): Debian's clang 14 tools, matching .clang-format/.clang-tidy.
LINT_PACKAGES=(clang-format clang-tidy)
# The fuzz build (scripts/fuzz.sh): clang 14 and its libFuzzer runtime (libclang_rt.fuzzer).
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)
apt_ensure "${BUILD_PACKAGES[@]}" "${LINT_PACKAGES[@]}" "${FUZZ_PACKAGES[@]}"
# Libraries only micro-benchmarks link (bench/CMakeLists.txt), never the product: picohttpparser,
# a candidate of bench/http_parse, is exported by libh2o-evloop (Debian ships no package of its own).
BENCH_LIB_PACKAGES=(libh2o-evloop-dev)

peers=("$@")
if ((${#peers[@]} == 0)); then peers=(kafka consul etcd zookeeper bench); fi
for peer in "${peers[@]}"; do
  [[ "$peer" == build ]] && continue
  if [[ "$peer" == bench_libs ]]; then apt_ensure "${BENCH_LIB_PACKAGES[@]}"; continue; fi
  if [[ "$peer" == bench ]]; then
    apt_ensure "${BENCH_LIB_PACKAGES[@]}"
    bash "$INTAKE_ROOT/bench/peer/deps.sh"
    continue
  fi
  bash "$INTAKE_ROOT/scripts/peers/$peer.sh" install
done
