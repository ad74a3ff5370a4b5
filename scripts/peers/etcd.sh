#!/usr/bin/env bash
# A real single-member etcd (Debian's etcd-server 3.4.x) on 127.0.0.1 for Intake's tests.
#   etcd.sh install|start|stop|status|env
# Ports: client ${ETCD_PORT:-12379}, peer ${ETCD_PEER_PORT:-12380} -- never Debian's 2379/2380,
# so a system etcd (if one ever runs) cannot clash with ours.
# Run folder: $INTAKE_RUN/etcd/{data,etcd.pid,etcd.log}; address in $INTAKE_RUN/etcd.env.
#
# JSON gateway: etcd 3.4 serves the gRPC-gateway under BOTH /v3/ and /v3beta/ (checked on
# 3.4.23: POST /v3/kv/range and /v3beta/kv/range both answer). 3.5 dropped /v3beta/, so Intake
# must use /v3/. Keys/values are base64 in the JSON bodies and int64 fields (revision,
# version, count) come back as JSON strings.
#
# About the package's service: etcd-server ships /etc/init.d/etcd and etcd.service and its
# postinst runs `invoke-rc.d etcd start` (plus `deb-systemd-invoke start` when systemd runs).
# In our container there is no systemd and /usr/sbin/policy-rc.d exits 101, so nothing starts.
# We do not touch policy-rc.d or the service: if some host does start a system etcd, it sits
# on 2379/2380 and we on other ports; start refuses if our own ports are already taken.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peer.sh"

ETCD_PORT="${ETCD_PORT:-12379}"
ETCD_PEER_PORT="${ETCD_PEER_PORT:-12380}"
NAME=intake-etcd
DIR="$INTAKE_RUN/etcd"
PIDFILE="$DIR/etcd.pid"
LOGFILE="$DIR/etcd.log"
ENVFILE="$INTAKE_RUN/etcd.env"
ENDPOINT="http://127.0.0.1:$ETCD_PORT"
PEER_URL="http://127.0.0.1:$ETCD_PEER_PORT"
START_TIMEOUT=30

# The caller's ETCD_* / ETCDCTL_* variables (our own ETCD_PORT included) would be read by
# etcd/etcdctl as flags and clash with the explicit ones ("shadowed by flag" errors), so
# both run with those variables removed.
ENV_UNSETS=()
for v in $(compgen -e); do [[ $v == ETCD_* || $v == ETCDCTL_* ]] && ENV_UNSETS+=(-u "$v"); done
unset v
ctl() { env "${ENV_UNSETS[@]}" ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINT" --dial-timeout=2s --command-timeout=3s "$@"; }


cmd_install() {
  apt_ensure etcd-server etcd-client
  command -v etcd >/dev/null && command -v etcdctl >/dev/null || die "etcd/etcdctl not on PATH after install"
  # Just a notice: a package-started system etcd would be on 2379, not on our ports.
  if port_open 2379; then log "note: something (a system etcd?) listens on 2379; ours uses $ETCD_PORT"; fi
  log "installed: $(etcd --version | head -n1)"
}

healthy() { curl -sf --max-time 2 "$ENDPOINT/health" | grep -q '"health":"true"'; }

# Readiness = /health says healthy AND a v3 put/get/del round trip through etcdctl works
# (the probe key is deleted so tests start from an empty store).
ready() {
  healthy || return 1
  local val="probe-$$-$RANDOM"
  ctl put __intake_probe "$val" >/dev/null || return 1
  [[ "$(ctl get __intake_probe --print-value-only)" == "$val" ]] || return 1
  ctl del __intake_probe >/dev/null
}

answering() { healthy && ctl endpoint health >/dev/null 2>&1; }

write_env() { printf 'INTAKE_ETCD_ENDPOINT=%s\n' "$ENDPOINT" >"$ENVFILE"; }

cmd_start() {
  command -v etcd >/dev/null && command -v etcdctl >/dev/null || die "etcd not installed; run: $0 install"
  lock_run_dir "$DIR"
  if reuse_started etcd "$ENDPOINT"; then return 0; fi
  rm -f "$PIDFILE" "$ENVFILE"
  refuse_taken_ports "$ETCD_PORT" "$ETCD_PEER_PORT"
  rm -rf "$DIR/data"   # fresh store on every start: tests must not see earlier runs' keys
  mkdir -p "$DIR/data"; chmod 700 "$DIR/data"
  : >"$LOGFILE"
  # env and nohup exec in turn, so the pid spawn records is etcd's own.
  spawn env "${ENV_UNSETS[@]}" nohup etcd \
    --name "$NAME" \
    --data-dir "$DIR/data" \
    --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
    --listen-peer-urls "$PEER_URL" --initial-advertise-peer-urls "$PEER_URL" \
    --initial-cluster "$NAME=$PEER_URL" --initial-cluster-state new \
    --initial-cluster-token intake-etcd \
    --logger zap --log-outputs stderr
  await_ready "etcd $(etcd --version | awk 'NR==1{print $3}')" "$ENDPOINT" "$START_TIMEOUT"
}

cmd_stop() { lock_run_dir "$DIR"; stop_started etcd 10; }

cmd_status() { report_status "$ENDPOINT" answering; }

cmd_env() { print_env_file "$ENVFILE" etcd; }

peer_main "$@"
