#!/usr/bin/env bash
# Real Consul for Intake's tests: built from its Go module (scripts/peers/consul/go.mod,
# see docs/decisions/0002-consul-from-go-module.md) and run as a dev agent on 127.0.0.1.
#
#   consul.sh install   build once into $INTAKE_CACHE/consul-<version>/consul
#   consul.sh start     start the dev agent (no-op when already running and answering)
#   consul.sh stop      stop exactly the agent this script started
#   consul.sh status    exit 0 iff our agent runs and answers (leader elected, KV readable)
#   consul.sh env       print the KEY=VALUE lines of $INTAKE_RUN/consul.env
#
# Knobs (environment): CONSUL_HTTP_PORT (18500), CONSUL_DNS_PORT (18600, -1 disables),
# CONSUL_GRPC_PORT (-1 = off), CONSUL_SERVER_PORT (18300), CONSUL_SERF_LAN_PORT (18301),
# CONSUL_SERF_WAN_PORT (18302), CONSUL_DATA_DIR (unset: none; e.g. $INTAKE_RUN/consul/data),
# CONSUL_LOG_LEVEL (info), CONSUL_START_TIMEOUT (60), GO (/usr/local/go/bin/go).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peer.sh"

WRAPPER_DIR="$INTAKE_ROOT/scripts/peers/consul"
# The version is whatever the wrapper module pins; one binary per version in the cache.
CONSUL_VERSION="$(awk '$1 == "require" && $2 == "github.com/hashicorp/consul" { sub(/^v/, "", $3); print $3 }' "$WRAPPER_DIR/go.mod")"
[[ -n "$CONSUL_VERSION" ]] || die "cannot read the Consul version from $WRAPPER_DIR/go.mod"
CONSUL_BIN="$INTAKE_CACHE/consul-$CONSUL_VERSION/consul"

HTTP_PORT="${CONSUL_HTTP_PORT:-18500}"
DNS_PORT="${CONSUL_DNS_PORT:-18600}"
GRPC_PORT="${CONSUL_GRPC_PORT:--1}"
SERVER_PORT="${CONSUL_SERVER_PORT:-18300}"
SERF_LAN_PORT="${CONSUL_SERF_LAN_PORT:-18301}"
SERF_WAN_PORT="${CONSUL_SERF_WAN_PORT:-18302}"
ADDR="http://127.0.0.1:$HTTP_PORT"

RUN_DIR="$INTAKE_RUN/consul"
PIDFILE="$RUN_DIR/consul.pid"
LOGFILE="$RUN_DIR/consul.log"
ENVFILE="$INTAKE_RUN/consul.env"

# --- install ---------------------------------------------------------------------------

# Read the whole output first: `| head -n1` would SIGPIPE the binary and fail under pipefail.
binary_ok() {
  local out
  [[ -x "$CONSUL_BIN" ]] && out="$("$CONSUL_BIN" version 2>/dev/null)" && [[ "${out%%$'\n'*}" == "Consul v$CONSUL_VERSION" ]]
}

cmd_install() {
  if binary_ok; then log "consul $CONSUL_VERSION already built: $CONSUL_BIN"; return 0; fi
  local go="${GO:-/usr/local/go/bin/go}"
  [[ -x "$go" ]] || go="$(command -v go)" || die "no Go toolchain (set GO=/path/to/go)"
  mkdir -p "$(dirname "$CONSUL_BIN")"
  # Two concurrent installs would both spend minutes building; the second waits instead.
  exec 9>"$(dirname "$CONSUL_BIN")/.build.lock"
  flock 9
  if binary_ok; then log "consul $CONSUL_VERSION built meanwhile: $CONSUL_BIN"; return 0; fi
  log "building consul $CONSUL_VERSION with $("$go" version | awk '{print $3}') (several minutes on 2 cores)..."
  local tmp="$CONSUL_BIN.tmp.$$" start=$SECONDS
  # GOTOOLCHAIN=local: never download another toolchain. -mod=readonly: the committed go.sum
  # is the pin. CGO_ENABLED=0: static binary, as HashiCorp ships it. GONOSUMDB: these two
  # module versions are missing from the checksum database mirror reachable here; their
  # hashes are in go.sum, so this only matters if go.sum is ever regenerated.
  if ! (cd "$WRAPPER_DIR" && \
        GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
        GONOSUMDB="github.com/hashicorp/consul/envoyextensions,github.com/hashicorp/hcp-sdk-go" \
        "$go" build -trimpath -ldflags "-s -w" -o "$tmp" github.com/hashicorp/consul); then
    rm -f "$tmp"; die "go build of consul $CONSUL_VERSION failed"
  fi
  mv -f "$tmp" "$CONSUL_BIN"  # atomic: a half-written binary is never picked up
  binary_ok || die "built $CONSUL_BIN but '$CONSUL_BIN version' does not say v$CONSUL_VERSION"
  log "built $CONSUL_BIN in $((SECONDS - start))s ($(du -m "$CONSUL_BIN" | cut -f1) MB)"
}

# --- probes ----------------------------------------------------------------------------

# A leader is elected: /v1/status/leader answers e.g. "127.0.0.1:18300", not "".
leader_ok() {
  local leader
  leader="$(curl -sf --max-time 2 "$ADDR/v1/status/leader")" || return 1
  [[ -n "$leader" && "$leader" != '""' ]]
}

# KV works end to end (writes go through raft): put, read back, delete. The key lives
# outside intake/ so tests listing that prefix never see it.
kv_roundtrip_ok() {
  local key="_intake-probe/consul-sh-$$" val="probe-$RANDOM-$SECONDS" got
  [[ "$(curl -sf --max-time 2 -X PUT --data "$val" "$ADDR/v1/kv/$key")" == "true" ]] || return 1
  got="$(curl -sf --max-time 2 "$ADDR/v1/kv/$key?raw")" || return 1
  curl -sf --max-time 2 -X DELETE "$ADDR/v1/kv/$key" >/dev/null || return 1
  [[ "$got" == "$val" ]]
}

# KV reads are served (a missing key is a proper 404). Read-only on purpose: a write would
# bump the KV index and wake Intake's blocking queries every time someone asks for status.
kv_read_ok() {
  local code
  code="$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$ADDR/v1/kv/_intake-probe/none")" || return 1
  [[ "$code" == 200 || "$code" == 404 ]]
}

answering() { leader_ok && kv_read_ok; }

# Used while starting: a leader and one write round trip.
ready() { leader_ok && kv_roundtrip_ok; }

write_env() {
  mkdir -p "$INTAKE_RUN"
  printf 'INTAKE_CONSUL_ADDR=%s\nINTAKE_CONSUL_BIN=%s\n' "$ADDR" "$CONSUL_BIN" >"$ENVFILE.tmp"
  mv -f "$ENVFILE.tmp" "$ENVFILE"
}

# --- start / stop / status -------------------------------------------------------------

cmd_start() {
  if pid_alive "$PIDFILE" && answering; then
    write_env
    log "consul already running (pid $(cat "$PIDFILE")) at $ADDR; log: $LOGFILE"
    return 0
  fi
  # A leftover agent of ours that does not answer is useless: replace it.
  if pid_alive "$PIDFILE"; then log "consul pid $(cat "$PIDFILE") does not answer; restarting it"; fi
  stop_pidfile "$PIDFILE" 5
  rm -f "$ENVFILE"

  cmd_install

  # Fixed ports: fail clearly rather than let the agent die on a bind error.
  refuse_taken_ports "$HTTP_PORT" "$SERVER_PORT" "$SERF_LAN_PORT" "$SERF_WAN_PORT" "$DNS_PORT"

  mkdir -p "$RUN_DIR"
  local args=(agent -dev -node intake-consul -bind 127.0.0.1 -client 127.0.0.1
    -http-port "$HTTP_PORT" -dns-port "$DNS_PORT" -grpc-port "$GRPC_PORT" -grpc-tls-port -1
    -server-port "$SERVER_PORT" -serf-lan-port "$SERF_LAN_PORT" -serf-wan-port "$SERF_WAN_PORT"
    -log-level "${CONSUL_LOG_LEVEL:-info}"
    # No call-home: dev mode already skips the checkpoint update check and the anonymous
    # signature; say so explicitly so a config change cannot turn them back on.
    -hcl 'disable_update_check = true' -hcl 'disable_anonymous_signature = true')
  # Dev mode keeps raft and KV in memory whatever -data-dir says; a data dir only holds
  # node metadata. Off unless asked for.
  if [[ -n "${CONSUL_DATA_DIR:-}" ]]; then mkdir -p "$CONSUL_DATA_DIR"; args+=(-data-dir "$CONSUL_DATA_DIR"); fi

  log "starting consul $CONSUL_VERSION at $ADDR; log: $LOGFILE"
  printf '\n=== %s consul.sh start: %s %s\n' "$(date -Is)" "$CONSUL_BIN" "${args[*]}" >>"$LOGFILE"
  # setsid: the agent must not get the caller's Ctrl-C / terminal hangup; it is stopped by pid.
  # (Without job control the background child is no group leader, so setsid execs in place
  # and the pid spawn records is the agent's own.)
  spawn setsid "$CONSUL_BIN" "${args[@]}"
  await_ready consul "$ADDR" "${CONSUL_START_TIMEOUT:-60}"
}

cmd_stop() { stop_started consul 5; }

cmd_status() { report_status "$ADDR" answering; }

cmd_env() { print_env_file "$ENVFILE" consul; }

peer_main "$@"
