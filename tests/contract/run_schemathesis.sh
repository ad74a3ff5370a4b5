#!/usr/bin/env bash
# Contract test: runs the real `intake` binary against the running Kafka with a generated
# config and checks it against docs/openapi.yaml with schemathesis — no 5xx, every status,
# Content-Type, header and body as the spec documents them. Exits non-zero on any failure,
# and when the gateway itself exits non-zero at the end (a sanitizer report, a leak).
#   tests/contract/run_schemathesis.sh <intake binary> [report dir]
# ctest runs it as contract.schemathesis (label contract, tests/CMakeLists.txt). The limits
# (INTAKE_CONTRACT_MAX_EXAMPLES per operation, INTAKE_CONTRACT_TIMEOUT_S for the whole run)
# keep it to well under a minute.
# Needs INTAKE_KAFKA_BOOTSTRAP (scripts/test.sh exports it). The schemathesis version is pinned
# below and installed once into a venv under $INTAKE_CACHE; later runs reuse it.
#
# The Confluent v3 routes (tag v3) are served under the cluster id contract-cluster (the spec's
# example); INTAKE_CONTRACT_SKIP_V3=1 leaves them out.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${INTAKE_CONTRACT_MAX_EXAMPLES:-25}"
TIME_BUDGET_S="${INTAKE_CONTRACT_TIMEOUT_S:-300}"
SKIP_V3="${INTAKE_CONTRACT_SKIP_V3:-0}"

binary="${1:-}"
[[ -x "$binary" ]] || die "usage: $0 <intake binary> [report dir] (got '${binary}')"
report_dir="${2:-}"
bootstrap="${INTAKE_KAFKA_BOOTSTRAP:-}"
[[ -n "$bootstrap" ]] || die "INTAKE_KAFKA_BOOTSTRAP is not set (start Kafka with scripts/peers/kafka.sh start)"
spec="$INTAKE_ROOT/docs/openapi.yaml"

# The venv: Debian's python3 with a pinned schemathesis; a no-op once that version is there.
venv="$INTAKE_CACHE/schemathesis-$SCHEMATHESIS_VERSION"
if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != *" $SCHEMATHESIS_VERSION" ]]; then
  apt_ensure python3 python3-venv
  rm -rf "$venv"
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" >"$INTAKE_CACHE/schemathesis-pip.log" 2>&1 ||
    fail_with_log "$INTAKE_CACHE/schemathesis-pip.log" "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/intake-contract.XXXXXX")"
pidfile="$work/intake.pid"
cleanup() {
  stop_pidfile "$pidfile" 20
  rm -rf "$work"
}
trap cleanup EXIT

port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# One secret is both the API key and the admin token, so one Authorization header reaches
# every operation. Rights only to contract.*: generated topic names rarely match, so the test
# creates few topics in the shared Kafka (the spec's examples use contract.events).
secret="contract-test-key"
digest="$(printf '%s' "$secret" | sha256sum | cut -d' ' -f1)"
# Short sync and delivery timeouts: a sync request Kafka cannot answer costs seconds, not 30.
cat >"$work/intake.yaml" <<YAML
server: {listen: "127.0.0.1:$port", threads: 2, sync_timeout_ms: 3000}
kafka: {bootstrap_servers: "$bootstrap", delivery_timeout_ms: 3000, shutdown_flush_ms: 5000}
admin: {token_sha256: $digest}
confluent: {cluster_id: contract-cluster}
keys:
  contract: {secret_sha256: $digest, topics: ["contract.*"]}
YAML

"$binary" run --config "$work/intake.yaml" >"$work/intake.log" 2>&1 &
echo $! >"$pidfile"
ready() { curl -fsS "http://127.0.0.1:$port/readyz"; }
wait_until "intake /readyz" 30 ready || fail_with_log "$work/intake.log" "intake did not become ready on port $port"

args=(run "$spec" --url "http://127.0.0.1:$port"
  -H "Authorization: Bearer $secret"
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
  --max-examples "$MAX_EXAMPLES"
  --phases examples,coverage,fuzzing
  --request-timeout 10
  --generation-database none
  --workers 1
  --no-color)
[[ "$SKIP_V3" == 1 ]] && args+=(--exclude-tag v3)
# JUnit by default; INTAKE_CONTRACT_REPORTS=junit,har also keeps every request and answer.
[[ -n "$report_dir" ]] && args+=(--report "${INTAKE_CONTRACT_REPORTS:-junit}" --report-dir "$report_dir")

log "schemathesis $SCHEMATHESIS_VERSION against intake on 127.0.0.1:$port (at most $MAX_EXAMPLES examples per operation)"
status=0
(cd "$work" && SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$INTAKE_ROOT/tests/contract" timeout "$TIME_BUDGET_S" "$venv/bin/schemathesis" "${args[@]}") || status=$?
((status == 124)) && log "ERROR: schemathesis did not finish within ${TIME_BUDGET_S}s"

# The gateway must still be up, and stop cleanly (ASan/LSan report through its exit code).
if ! pid_alive "$pidfile"; then
  fail_with_log "$work/intake.log" "intake died during the run"
fi
pid="$(cat "$pidfile")"
kill -TERM "$pid"
gateway_status=0
wait "$pid" || gateway_status=$?
rm -f "$pidfile"
if ((gateway_status != 0)); then
  log "ERROR: intake exited with $gateway_status"
  tail -n 60 "$work/intake.log" >&2
  status=1
fi
((status == 0)) && log "contract: the gateway matches docs/openapi.yaml"
exit "$status"
