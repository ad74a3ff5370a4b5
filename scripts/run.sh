#!/usr/bin/env bash
# Intake's main job on a fresh machine: installs what is missing, builds the release binary,
# starts a local Kafka broker and Consul agent on 127.0.0.1, serves examples/intake.yaml on
# 127.0.0.1:8080, proves it with one record, and prints a curl line and a read-back command.
# Ctrl-C (or SIGTERM) drains Intake and stops the peers this script started.
#   scripts/run.sh [CONFIG]      default examples/intake.yaml
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

config="${1:-$INTAKE_ROOT/examples/intake.yaml}"
bash "$INTAKE_ROOT/scripts/deps.sh" kafka consul
bash "$INTAKE_ROOT/scripts/build.sh" release
intake_bin="$INTAKE_ROOT/build/release/src/intake"
"$intake_bin" check-config --config "$config" >/dev/null

started=()
intake_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$intake_pid" ]] && kill -0 "$intake_pid" 2>/dev/null; then
    kill -TERM "$intake_pid" 2>/dev/null || true
    wait "$intake_pid" 2>/dev/null || true
  fi
  local peer
  for peer in "${started[@]}"; do bash "$INTAKE_ROOT/scripts/peers/$peer.sh" stop || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for peer in kafka consul; do
  if ! bash "$INTAKE_ROOT/scripts/peers/$peer.sh" status >/dev/null 2>&1; then
    bash "$INTAKE_ROOT/scripts/peers/$peer.sh" start
    started+=("$peer")
  fi
done
peers_env

# The address Intake serves on, from the config (server.listen), for the printed commands.
listen="$(sed -n 's/^ *listen: *"\{0,1\}\([0-9.]*:[0-9]*\).*/\1/p' "$config" | head -n1)"
listen="${listen:-127.0.0.1:8080}"
port_open "${listen##*:}" && die "something already listens on $listen; stop it or change server.listen in $config"

# The demo key lives in Consul too, so the registry's config (which replaces the YAML's keys
# once Consul answers) keeps it. Existing values are left alone.
consul_kv() { CONSUL_HTTP_ADDR="$INTAKE_CONSUL_ADDR" "$INTAKE_CONSUL_BIN" kv "$@"; }
if ! consul_kv get intake/keys/demo >/dev/null 2>&1; then
  consul_kv put intake/keys/demo \
    '{"secret_sha256":"2fa68b16f48fb2fd234756d1ca0a2e1a7dda96422ccaa33e3ec7635a88b863e3","topics":["events.*","demo"]}' >/dev/null
fi

intake_log="$INTAKE_RUN/intake.log"
"$intake_bin" run --config "$config" > >(tee "$intake_log") 2>&1 &
intake_pid=$!
wait_until "intake on $listen" 30 curl -sf "http://$listen/healthz" || fail_with_log "$intake_log" "intake did not start"
wait_until "Kafka reachable from intake" 60 curl -sf "http://$listen/readyz" || fail_with_log "$intake_log" "intake cannot reach Kafka"

# One record through the demo key proves the whole path before we tell the user it works.
self_check="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer intake-demo-key' \
  --data-binary '{"hello":"from scripts/run.sh"}' "http://$listen/v1/topics/demo")"
[[ "$self_check" == 202 ]] || fail_with_log "$intake_log" "self-check POST answered $self_check, expected 202"

cat <<EOT

Intake is serving on http://$listen (Kafka $INTAKE_KAFKA_BOOTSTRAP, Consul $INTAKE_CONSUL_ADDR).

Send a record:
  curl -i -X POST -H 'Authorization: Bearer intake-demo-key' --data-binary '{"event":"signup","user":42}' http://$listen/v1/topics/demo

Read the records back from Kafka:
  kcat -C -b $INTAKE_KAFKA_BOOTSTRAP -t demo -o beginning -e -f 'partition %p offset %o: %s\n'

Add a key live through Consul (no restart), then use it:
  CONSUL_HTTP_ADDR=$INTAKE_CONSUL_ADDR $INTAKE_CONSUL_BIN kv put intake/keys/team-a "{\"secret_sha256\":\"\$($intake_bin hash-key team-a-secret)\",\"topics\":[\"events.*\"]}"
  curl -i -X POST -H 'Authorization: Bearer team-a-secret' --data-binary 'hello' http://$listen/v1/topics/events.a

What is in force: curl -s -H 'Authorization: Bearer intake-admin-token' http://$listen/admin/config
Health: curl http://$listen/healthz   Readiness: curl http://$listen/readyz
Logs: $intake_log. Press Ctrl-C to drain and stop.
EOT
wait "$intake_pid" || true
intake_pid=""
