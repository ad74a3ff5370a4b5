# The life of a peer that runs as one process of ours, known by its pid file: what every
# scripts/peers/<peer>.sh (and bench/peer/seed_stack.sh) does the same way. Source it after
# common.sh; do not execute it.
#
# The sourcing script sets, before it calls any of these:
#   PIDFILE   the pid of the process it started      LOGFILE   where that process writes
#   ENVFILE   $INTAKE_RUN/<peer>.env
# and defines
#   ready      true once the peer answers as its tests need it (the start probe)
#   write_env  writes ENVFILE

# ready_or_dead: true once the peer is ready, and at once when its process died, so a start
# stops waiting early; await_ready then checks the pid to tell the two apart.
ready_or_dead() { ! pid_alive "$PIDFILE" || ready; }

# lock_run_dir <dir>: holds <dir>/.lock on fd 9 until the script exits, so two starts (or a start
# and a stop) never race for the same ports and pid file.
lock_run_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

# reuse_started <name> <where>: in a start that holds the lock: true when our process runs and
# answers (the env file is written again); fails the start when it runs but does not answer;
# false when none runs.
reuse_started() {
  local name="$1" where="$2"
  pid_alive "$PIDFILE" || return 1
  # Holding the lock, an earlier start has finished, so a live pid should answer at once;
  # if not, it is hung or was started with other ports (stop it first).
  wait_until "$name (already started, pid $(cat "$PIDFILE"))" 5 ready ||
    fail_with_log "$LOGFILE" "$name pid $(cat "$PIDFILE") runs but does not answer on $where (other ports? run: $0 stop)"
  write_env
  log "already running (pid $(cat "$PIDFILE")) at $where; log: $LOGFILE"
}

# refuse_taken_ports <port...>: dies when something already listens on one of them (-1: a
# listener that is off). Someone else on our ports would make the readiness probe lie.
refuse_taken_ports() {
  local port
  for port in "$@"; do
    if [[ "$port" != -1 ]] && port_open "$port"; then
      die "port $port on 127.0.0.1 is taken by a process we did not start"
    fi
  done
}

# spawn <command...>: runs the peer's process in the background, stdin from /dev/null, output
# appended to LOGFILE, and writes its pid to PIDFILE. The command must exec in place (nohup,
# setsid and env do), so that $! is the peer's own pid, the one stop_pidfile signals. 9>&-
# keeps the start/stop lock out of the long-lived process.
spawn() {
  SPAWNED_AT_US=${EPOCHREALTIME/./}
  "$@" </dev/null >>"$LOGFILE" 2>&1 9>&- &
  echo $! >"$PIDFILE"
}

# await_ready <name> <where> <timeout_s> [grace_s]: after spawn, waits until ready, then writes
# the env file and says how long the start took. A process that is not ready in time is stopped
# (TERM, KILL after grace_s, default 5); one that died is reported. Either way the start fails
# with the log's tail.
await_ready() {
  local name="$1" where="$2" timeout_s="$3" grace_s="${4:-5}"
  if ! wait_until "$name on $where" "$timeout_s" ready_or_dead; then
    stop_pidfile "$PIDFILE" "$grace_s"
    fail_with_log "$LOGFILE" "$name did not become ready on $where within ${timeout_s}s"
  fi
  if ! pid_alive "$PIDFILE"; then
    rm -f "$PIDFILE"
    fail_with_log "$LOGFILE" "$name exited during startup"
  fi
  write_env
  log "$name ready at $where in $(( (${EPOCHREALTIME/./} - SPAWNED_AT_US) / 1000 )) ms (pid $(cat "$PIDFILE")); log: $LOGFILE"
}

# stop_started <name> <grace_s>: the stop action: TERM exactly our pid (KILL after grace_s),
# then the env file goes.
stop_started() {
  if pid_alive "$PIDFILE"; then log "stopping $1 (pid $(cat "$PIDFILE"))"; fi
  stop_pidfile "$PIDFILE" "$2"
  rm -f "$ENVFILE"
}

# report_status <where> <probe...>: the status action: exit 0 iff our process runs and the probe
# passes, said on stderr.
report_status() {
  local where="$1"; shift
  if pid_alive "$PIDFILE" && "$@"; then
    log "running (pid $(cat "$PIDFILE")) at $where"
    return 0
  fi
  log "not running or not answering at $where"
  return 1
}
