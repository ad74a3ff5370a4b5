#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on 127.0.0.1,
# from the Apache jars on Maven Central, run with the machine's Java 17.
#
#   kafka.sh install   fetch the jars once into $INTAKE_CACHE/kafka-<version>/libs (+ kcat, mvn, java)
#   kafka.sh start     fresh storage, start, wait until a metadata request answers, write the env file
#   kafka.sh stop      stop exactly the pid we started, remove the env file
#   kafka.sh kill      SIGKILL it, as a crash would; KAFKA_KEEP_DATA=1 kafka.sh start restarts on its data
#   kafka.sh pause     SIGSTOP it (a hung broker); kafka.sh resume sends SIGCONT
#   kafka.sh status    exit 0 iff our broker runs and answers metadata requests
#   kafka.sh env       print the env file (INTAKE_KAFKA_BOOTSTRAP=127.0.0.1:<port>)
#
# Knobs (environment):
#   KAFKA_VERSION          default below; see docs/decisions/0001-kafka-version.md for why
#   KAFKA_INSTANCE         default "kafka": names the run folder, pid, log and env file, so a second
#                          broker can run beside the first, e.g.
#                          KAFKA_INSTANCE=kafka2 KAFKA_PORT=19094 KAFKA_CONTROLLER_PORT=19095 kafka.sh start
#                          (its env file then holds INTAKE_KAFKA2_BOOTSTRAP=...)
#   KAFKA_PORT             client listener, default 19092
#   KAFKA_CONTROLLER_PORT  KRaft controller listener, default 19093
#   KAFKA_START_TIMEOUT    seconds to wait for readiness, default 90
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx768m"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peer.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_INSTANCE="${KAFKA_INSTANCE:-kafka}"
[[ "$KAFKA_INSTANCE" =~ ^[A-Za-z0-9_-]+$ ]] || die "KAFKA_INSTANCE must be [A-Za-z0-9_-]+, got '$KAFKA_INSTANCE'"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"

POM="$INTAKE_ROOT/scripts/peers/kafka/pom.xml"
HOME_DIR="$INTAKE_CACHE/kafka-$KAFKA_VERSION"   # jars for one version, shared by all instances
LIBS="$HOME_DIR/libs"
MARKER="$HOME_DIR/.complete"                     # written only after a full, successful fetch

RUN_DIR="$INTAKE_RUN/$KAFKA_INSTANCE"
PIDFILE="$RUN_DIR/$KAFKA_INSTANCE.pid"
LOGFILE="$RUN_DIR/$KAFKA_INSTANCE.log"
STATE_FILE="$RUN_DIR/instance"                   # ports+version of the running instance, for status/start
ENVFILE="$INTAKE_RUN/$KAFKA_INSTANCE.env"
# kafka -> INTAKE_KAFKA_BOOTSTRAP, kafka2 -> INTAKE_KAFKA2_BOOTSTRAP, my-k -> INTAKE_MY_K_BOOTSTRAP
ENV_VAR="INTAKE_$(tr 'a-z-' 'A-Z_' <<<"$KAFKA_INSTANCE")_BOOTSTRAP"

# A running instance keeps the ports it was started with (status/stop need no port knobs);
# otherwise the knobs or the defaults apply.
if [[ -f "$STATE_FILE" ]] && pid_alive "$PIDFILE"; then
  source "$STATE_FILE"
  RUNNING_PORT="$PORT" RUNNING_CONTROLLER_PORT="$CONTROLLER_PORT" RUNNING_VERSION="$VERSION"
fi
PORT="${KAFKA_PORT:-${RUNNING_PORT:-19092}}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-${RUNNING_CONTROLLER_PORT:-19093}}"
# A second instance on the default ports would only collide with the first: insist on ports.
if [[ "$KAFKA_INSTANCE" != kafka && -z "${KAFKA_PORT:-}${RUNNING_PORT:-}" && "${1:-}" == start ]]; then
  die "KAFKA_INSTANCE=$KAFKA_INSTANCE needs KAFKA_PORT and KAFKA_CONTROLLER_PORT (defaults belong to 'kafka')"
fi
BOOTSTRAP="127.0.0.1:$PORT"

# ---------------------------------------------------------------------------------------------
# Debian packages the broker needs: kcat (readiness probe, tests), mvn (fetch), java.
# The main deps script can call `scripts/peers/kafka.sh install`, which runs this first.
kafka_apt_deps() {
  local -a missing=()
  command -v kcat >/dev/null || missing+=(kcat)
  command -v mvn  >/dev/null || missing+=(maven)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  ((${#missing[@]} == 0)) || apt_ensure "${missing[@]}"
}

# The marker records the pom's hash too, so editing the pom (e.g. another log binding) refetches.
pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }
installed() { [[ -f "$MARKER" && "$(cat "$MARKER")" == "$KAFKA_VERSION $(pom_hash)" ]]; }

cmd_install() {
  kafka_apt_deps
  if installed; then log "kafka $KAFKA_VERSION jars already in $LIBS"; return 0; fi
  log "fetching kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  # Fetch into a scratch dir and rename, so an interrupted fetch never looks complete.
  rm -rf "$HOME_DIR"; mkdir -p "$HOME_DIR"
  # Output goes to a log (Debian's mvn -q still prints bare colour codes); shown on failure.
  mvn -q -B -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$HOME_DIR/libs.partial" \
      >"$HOME_DIR/mvn.log" 2>&1 \
    || fail_with_log "$HOME_DIR/mvn.log" "mvn could not fetch kafka_2.13:$KAFKA_VERSION (is the version on Maven Central?)"
  [[ -f "$HOME_DIR/libs.partial/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  mv "$HOME_DIR/libs.partial" "$LIBS"
  echo "$KAFKA_VERSION $(pom_hash)" >"$MARKER"
  log "installed kafka $KAFKA_VERSION ($(ls "$LIBS" | wc -l) jars)"
}

# ---------------------------------------------------------------------------------------------
# Readiness = a real Kafka metadata request answered by *our* broker (node 1 on our port);
# an open port alone is not enough (the listener opens before the broker is unfenced).
ready() {
  port_open "$PORT" || return 1
  timeout 10 kcat -b "$BOOTSTRAP" -L -m 5 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$PORT"
}

running() { pid_alive "$PIDFILE" && ready; }

write_env() { echo "$ENV_VAR=$BOOTSTRAP" >"$ENVFILE"; }

write_config() {
  cat >"$RUN_DIR/server.properties" <<EOF
# Generated by scripts/peers/kafka.sh on each start; edits are lost.
process.roles=broker,controller
node.id=1
# Static single-voter quorum: works on Kafka 3.x and 4.x without --standalone formatting.
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$RUN_DIR/data

# One broker: every replicated internal topic must accept a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Test-friendly: topics appear on first use, groups do not wait 3 s before the first rebalance,
# and the first group join does not have to create 50 offsets partitions.
auto.create.topics.enable=true
num.partitions=3
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
EOF
  # Everything to stdout, which start redirects into the one log file.
  cat >"$RUN_DIR/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
EOF
}

cmd_start() {
  if running; then
    write_env
    log "$KAFKA_INSTANCE already running (pid $(cat "$PIDFILE"), $BOOTSTRAP); log: $LOGFILE"
    return 0
  fi
  installed || die "kafka $KAFKA_VERSION not installed; run: $0 install"
  command -v kcat >/dev/null || die "kcat missing; run: $0 install"
  # Our pid alive but not answering: a hung or half-started broker of ours; start over.
  if pid_alive "$PIDFILE"; then log "pid $(cat "$PIDFILE") not answering; restarting it"; fi
  stop_pidfile "$PIDFILE" 20
  rm -f "$ENVFILE"
  refuse_taken_ports "$PORT" "$CONTROLLER_PORT"

  # Fresh data every start (tests want a clean broker), unless KAFKA_KEEP_DATA=1 asks to
  # restart on the data a killed broker left (fault tests).
  local keep_data=0
  [[ "${KAFKA_KEEP_DATA:-0}" == 1 && -f "$RUN_DIR/data/meta.properties" ]] && keep_data=1
  mkdir -p "$RUN_DIR"
  if ((keep_data)); then echo "--- restart on kept data ---" >>"$LOGFILE"; else rm -rf "$RUN_DIR/data"; : >"$LOGFILE"; fi
  write_config
  printf 'PORT=%s\nCONTROLLER_PORT=%s\nVERSION=%s\n' "$PORT" "$CONTROLLER_PORT" "$KAFKA_VERSION" >"$STATE_FILE"

  local -a jvm=(-Djava.awt.headless=true -Dlog4j2.configurationFile="$RUN_DIR/log4j2.xml"
                -Dkafka.logs.dir="$RUN_DIR" -cp "$LIBS/*")
  # The broker gets Kafka's own GC flags; the one-shot formatter a JIT/GC tuned for
  # short runs (about 1 s of a ~9 s start saved).
  local -a broker_jvm=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20
                       -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent)
  local -a tool_jvm=(-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
  # A cluster id is 16 random bytes in unpadded base64url; saves a JVM start of `random-uuid`.
  # One starting with '-' would be read by the formatter's argument parser as an option
  # ("--cluster-id: expected one argument", 1 start in 64): draw again.
  local cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  if ((!keep_data)); then
    java "${tool_jvm[@]}" "${jvm[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$RUN_DIR/server.properties" \
        >>"$LOGFILE" 2>&1 || fail_with_log "$LOGFILE" "formatting KRaft storage failed"
  fi

  # setsid: the broker must not die with the caller's terminal or process group.
  # Non-interactive bash does not make the job a group leader, so setsid execs in place
  # and the pid spawn records is the java pid itself.
  spawn setsid java "${broker_jvm[@]}" "${jvm[@]}" kafka.Kafka "$RUN_DIR/server.properties"
  log "starting kafka $KAFKA_VERSION as $KAFKA_INSTANCE (pid $(cat "$PIDFILE"), $BOOTSTRAP); log: $LOGFILE"
  await_ready "$KAFKA_INSTANCE" "$BOOTSTRAP" "$KAFKA_START_TIMEOUT" 20
}

cmd_stop() {
  # A controlled KRaft shutdown of a single node takes a few seconds; allow 30 before KILL.
  stop_started "$KAFKA_INSTANCE" 30
  rm -f "$STATE_FILE"
}

# kill: SIGKILL, as a crash would (fault tests); the data stays for KAFKA_KEEP_DATA=1 start.
cmd_kill() {
  if pid_alive "$PIDFILE"; then
    local pid; pid="$(cat "$PIDFILE")"
    log "killing $KAFKA_INSTANCE (pid $pid) with SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$PIDFILE" "$ENVFILE"
}

# pause/resume: SIGSTOP/SIGCONT, a broker that hangs with its connections open (nothing is
# refused, nothing is answered) — the fault that only timeouts reveal.
cmd_pause() {
  pid_alive "$PIDFILE" || die "$KAFKA_INSTANCE is not running"
  log "pausing $KAFKA_INSTANCE (pid $(cat "$PIDFILE")) with SIGSTOP"
  kill -STOP "$(cat "$PIDFILE")"
}

cmd_resume() {
  pid_alive "$PIDFILE" || die "$KAFKA_INSTANCE is not running"
  log "resuming $KAFKA_INSTANCE (pid $(cat "$PIDFILE")) with SIGCONT"
  kill -CONT "$(cat "$PIDFILE")"
}

cmd_status() {
  if running; then echo "$KAFKA_INSTANCE running: pid $(cat "$PIDFILE"), $BOOTSTRAP, kafka ${RUNNING_VERSION:-?}"; return 0; fi
  echo "$KAFKA_INSTANCE not running"; return 1
}

cmd_env() { print_env_file "$ENVFILE" "$KAFKA_INSTANCE"; }

peer_main "$@"
