#!/usr/bin/env bash
# Everything the peer benchmark needs, idempotently (a no-op in about a second once installed):
# python3 (the harness), wrk (load), python3-matplotlib (chart), linux-perf (profile), the seed's stack
# (bench/peer/seed_stack.sh install) and the Kafka 3.9.2 jars (lua-resty-kafka 0.07 speaks only
# Produce v0-v2, which Kafka 4.x refuses: both sides of the comparison use 3.9.2).
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

apt_ensure python3 wrk python3-matplotlib linux-perf
bash "$INTAKE_ROOT/bench/peer/seed_stack.sh" install
KAFKA_VERSION="${BENCH_KAFKA_VERSION:-3.9.2}" bash "$INTAKE_ROOT/scripts/peers/kafka.sh" install
