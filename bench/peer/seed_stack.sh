#!/usr/bin/env bash
# The seed's own stack as a benchmark peer, from Debian packages, on 127.0.0.1:
# nginx (nginx-light) + lua-nginx-module (libnginx-mod-http-lua) + lua-resty-kafka 0.07
# (lua-nginx-kafka; its modules are nginx.kafka.*) + lua-cjson.
#
#   seed_stack.sh install   the Debian packages, then checks the modules are where the config expects
#   seed_stack.sh start     writes the config into the run folder, starts nginx, waits until it answers
#   seed_stack.sh stop      graceful stop (QUIT: the async producer flushes), then TERM/KILL the master
#   seed_stack.sh status    exit 0 iff our nginx runs and answers
#   seed_stack.sh env       print the env file
#
# Knobs (environment):
#   SEED_MODE           kafka (default): POST /async/{topic}, POST /sync/{topic}, GET /stats
#                       bare: `return 202` for everything, no Lua and no Kafka (the cost of HTTP)
#   SEED_INSTANCE       run folder, pid and env file name; default seed-<mode>
#   SEED_PORT           default 18480 (kafka) or 18481 (bare)
#   SEED_WORKERS        worker_processes; default nproc, as Intake's server.threads: 0
#   SEED_KAFKA          bootstrap host:port[,host:port] (kafka mode; required)
#   SEED_FLUSH_MS       lua-resty-kafka flush_time, default 5 (Intake's linger.ms; library default 1000)
#   SEED_BATCH_NUM      batch_num, default 200 (library default)
#   SEED_MAX_BUFFERING  ring buffer records per worker, default 500000 (library default 50000)
#
# The env file $INTAKE_RUN/<instance>.env holds INTAKE_<INSTANCE>_URL and INTAKE_<INSTANCE>_PIDFILE
# (the master's pid: the benchmark adds up the CPU of the master and its workers).
#
# About the packages' service: nginx-common's postinst runs `invoke-rc.d nginx start`. In our
# container /usr/sbin/policy-rc.d exits 101, so nothing starts; where a system nginx does
# start, it is on :80 and ours on its own port. We do not touch the system service.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/peer.sh"

SEED_MODE="${SEED_MODE:-kafka}"
case "$SEED_MODE" in
  kafka) default_port=18480 ;;
  bare) default_port=18481 ;;
  *) die "SEED_MODE must be kafka or bare, got '$SEED_MODE'" ;;
esac
SEED_INSTANCE="${SEED_INSTANCE:-seed-$SEED_MODE}"
[[ "$SEED_INSTANCE" =~ ^[A-Za-z0-9_-]+$ ]] || die "SEED_INSTANCE must be [A-Za-z0-9_-]+, got '$SEED_INSTANCE'"
SEED_WORKERS="${SEED_WORKERS:-$(nproc)}"
SEED_FLUSH_MS="${SEED_FLUSH_MS:-5}"
SEED_BATCH_NUM="${SEED_BATCH_NUM:-200}"
SEED_MAX_BUFFERING="${SEED_MAX_BUFFERING:-500000}"

PEER_DIR="$INTAKE_ROOT/bench/peer"
RUN_DIR="$INTAKE_RUN/$SEED_INSTANCE"
PIDFILE="$RUN_DIR/$SEED_INSTANCE.pid"
LOGFILE="$RUN_DIR/error.log"
STATE_FILE="$RUN_DIR/instance"   # port and mode of the running instance, for status/stop
ENVFILE="$INTAKE_RUN/$SEED_INSTANCE.env"
ENV_PREFIX="INTAKE_$(tr 'a-z-' 'A-Z_' <<<"$SEED_INSTANCE")"

if [[ -f "$STATE_FILE" ]] && pid_alive "$PIDFILE"; then
  source "$STATE_FILE"
  RUNNING_PORT="$PORT"
fi
PORT="${SEED_PORT:-${RUNNING_PORT:-$default_port}}"
URL="http://127.0.0.1:$PORT"

PACKAGES=(nginx-light libnginx-mod-http-lua lua-nginx-kafka lua-cjson)
MODULES=(/usr/lib/nginx/modules/ndk_http_module.so /usr/lib/nginx/modules/ngx_http_lua_module.so
         /usr/share/lua/5.1/nginx/kafka/producer.lua /usr/lib/x86_64-linux-gnu/lua/5.1/cjson.so)

cmd_install() {
  apt_ensure "${PACKAGES[@]}"
  local f
  for f in "${MODULES[@]}"; do [[ -f "$f" ]] || die "$f missing after installing ${PACKAGES[*]}"; done
  log "installed: $(nginx -v 2>&1), lua-resty-kafka $(dpkg-query -W -f='${Version}' lua-nginx-kafka)," \
      "lua-nginx-module $(dpkg-query -W -f='${Version}' libnginx-mod-http-lua)"
}

ready() {
  if [[ "$SEED_MODE" == kafka ]]; then
    curl -sf --max-time 2 "$URL/stats" | grep -q async_dropped
  else
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/")" == 202 ]]
  fi
}

write_config() {
  local template="$PEER_DIR/nginx-$SEED_MODE.conf.in" user_line=""
  # As root, nginx would run its workers as nobody, who cannot enter a private $HOME where the
  # run folder lives: run them as the caller instead.
  if ((EUID == 0)); then user_line="user $(id -un) $(id -gn);"; fi
  mkdir -p "$RUN_DIR/tmp"
  sed -e "s|@USER@|$user_line|" -e "s|@WORKERS@|$SEED_WORKERS|" -e "s|@RUN_DIR@|$RUN_DIR|g" \
      -e "s|@PORT@|$PORT|" -e "s|@KAFKA@|${SEED_KAFKA:-}|" -e "s|@LUA_DIR@|$PEER_DIR/lua|" \
      -e "s|@FLUSH_MS@|$SEED_FLUSH_MS|" -e "s|@BATCH_NUM@|$SEED_BATCH_NUM|" \
      -e "s|@MAX_BUFFERING@|$SEED_MAX_BUFFERING|" "$template" >"$RUN_DIR/nginx.conf"
  if grep -q '@[A-Z_]*@' "$RUN_DIR/nginx.conf"; then die "unfilled placeholder in $RUN_DIR/nginx.conf"; fi
}

write_env() {
  printf '%s_URL=%s\n%s_PIDFILE=%s\n' "$ENV_PREFIX" "$URL" "$ENV_PREFIX" "$PIDFILE" >"$ENVFILE"
}

cmd_start() {
  command -v nginx >/dev/null || die "nginx not installed; run: $0 install"
  [[ "$SEED_MODE" == bare || -n "${SEED_KAFKA:-}" ]] || die "SEED_KAFKA (host:port) is required in kafka mode"
  mkdir -p "$RUN_DIR"
  if pid_alive "$PIDFILE"; then
    ready || die "$SEED_INSTANCE pid $(cat "$PIDFILE") runs but does not answer on $URL (run: $0 stop)"
    write_env
    log "$SEED_INSTANCE already running (pid $(cat "$PIDFILE"), $URL)"
    return 0
  fi
  rm -f "$PIDFILE" "$ENVFILE"
  refuse_taken_ports "$PORT"
  : >"$LOGFILE"
  write_config
  nginx -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$LOGFILE" >>"$LOGFILE" 2>&1 ||
    fail_with_log "$LOGFILE" "nginx rejected $RUN_DIR/nginx.conf"
  printf 'PORT=%s\n' "$PORT" >"$STATE_FILE"
  # daemon off: the pid spawn records is the master itself (setsid execs in place), the pid stop signals.
  spawn setsid nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$LOGFILE"
  await_ready "$SEED_INSTANCE ($SEED_MODE, $SEED_WORKERS workers)" "$URL" 20
}

cmd_stop() {
  if pid_alive "$PIDFILE"; then
    local pid; pid="$(cat "$PIDFILE")"
    log "stopping $SEED_INSTANCE (pid $pid) gracefully"
    # QUIT: workers finish their requests and lua-resty-kafka's exit timers flush the ring buffer.
    kill -QUIT "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  stop_pidfile "$PIDFILE" 5
  rm -f "$ENVFILE" "$STATE_FILE"
}

cmd_status() {
  if pid_alive "$PIDFILE" && ready; then echo "$SEED_INSTANCE running: pid $(cat "$PIDFILE"), $URL"; return 0; fi
  echo "$SEED_INSTANCE not running"; return 1
}

cmd_env() { print_env_file "$ENVFILE" "$SEED_INSTANCE"; }

peer_main "$@"
