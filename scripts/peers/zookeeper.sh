#!/usr/bin/env bash
# A real standalone ZooKeeper (Debian's zookeeper 3.8.x) on 127.0.0.1 for Intake's tests.
#   zookeeper.sh install|start|stop|status|env
# Port: client ${ZK_PORT:-12181} (never Debian's 2181); the AdminServer (Jetty, 8080) is off.
# Run folder: $INTAKE_RUN/zookeeper/{zoo.cfg,conf/log4j.properties,data,zookeeper.pid,zookeeper.log};
# address and CLI path in $INTAKE_RUN/zookeeper.env.
#
# About the package's service: the `zookeeper` package has no init script or systemd unit
# (those live in `zookeeperd`, which we do not install), so installing it starts nothing.
# We never use /etc/zookeeper/conf or zkServer.sh: the server is run with java directly on
# our own zoo.cfg, so nothing system-wide is read or written.
#
# Classpath: Debian's zkEnv.sh uses "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar";
# zookeeper.jar's manifest Class-Path pulls in its deps from /usr/share/java (jute, netty,
# jetty9, jackson, metrics, commons-*, snappy, slf4j-api). It has NO slf4j binding, so the
# server would log nothing (slf4j NOP); we add slf4j-log4j12 + log4j-1.2 (both are
# dependencies of libzookeeper-java) and our own log4j.properties.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/peer.sh"

ZK_PORT="${ZK_PORT:-12181}"
DIR="$INTAKE_RUN/zookeeper"
CFG="$DIR/zoo.cfg"
PIDFILE="$DIR/zookeeper.pid"
LOGFILE="$DIR/zookeeper.log"
ENVFILE="$INTAKE_RUN/zookeeper.env"
HOSTS="127.0.0.1:$ZK_PORT"
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
ZK_JAR=/usr/share/java/zookeeper.jar
CLASSPATH_JARS="$ZK_JAR:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
START_TIMEOUT=30


cmd_install() {
  # libzookeeper-mt-dev is the C client Intake links against.
  apt_ensure zookeeper libzookeeper-mt-dev
  [[ -f "$ZK_JAR" && -x "$ZKCLI" ]] || die "$ZK_JAR or $ZKCLI missing after install"
  command -v java >/dev/null || die "java not on PATH after install"
  log "installed: zookeeper $(dpkg-query -W -f='${Version}' zookeeper), $(java -version 2>&1 | head -n1)"
}

# four_letter <cmd>: a 4lw command over bash's /dev/tcp (nc is not installed); the server
# answers and closes, the timeout guards against a half-started server.
four_letter() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf %s "$2" >&3 && cat <&3' _ "$ZK_PORT" "$1"
}

serving() { four_letter srvr 2>/dev/null | grep -q '^Mode: standalone'; }

# Readiness = srvr says standalone AND a create/get/delete round trip through Debian's
# zkCli.sh works. One CLI session fed on stdin (JLine is absent, so it reads plain lines):
# one JVM start (~0.6 s) instead of one per command. The probe node is deleted so tests
# start from an empty tree; the leading delete clears one left by an interrupted probe.
ready() {
  serving || return 1
  local val="probe-$$-$RANDOM" out
  out="$(printf 'delete /__intake_probe\ncreate /__intake_probe %s\nget /__intake_probe\ndelete /__intake_probe\nquit\n' "$val" |
    timeout 10 "$ZKCLI" -server "$HOSTS" 2>&1)" || return 1
  grep -qx 'Created /__intake_probe' <<<"$out" && grep -qx "$val" <<<"$out"
}

answering() { serving && [[ "$(four_letter ruok 2>/dev/null)" == imok ]]; }

write_env() { printf 'INTAKE_ZK_HOSTS=%s\nINTAKE_ZKCLI=%s\n' "$HOSTS" "$ZKCLI" >"$ENVFILE"; }

write_config() {
  mkdir -p "$DIR/conf" "$DIR/data"
  # maxClientCnxns=0: tests open many sessions from 127.0.0.1 (default cap is 60 per IP).
  cat >"$CFG" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$DIR/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
standaloneEnabled=true
autopurge.purgeInterval=0
EOF
  # Console appender on stdout, which start redirects to zookeeper.log: log4j output and any
  # JVM startup error land in one file through one descriptor.
  cat >"$DIR/conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Target=System.out
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
EOF
}

cmd_start() {
  [[ -f "$ZK_JAR" && -x "$ZKCLI" ]] || die "zookeeper not installed; run: $0 install"
  lock_run_dir "$DIR"
  if reuse_started zookeeper "$HOSTS"; then return 0; fi
  rm -f "$PIDFILE" "$ENVFILE"
  refuse_taken_ports "$ZK_PORT"
  rm -rf "$DIR/data"   # fresh tree on every start: tests must not see earlier runs' znodes
  write_config
  : >"$LOGFILE"
  # QuorumPeerMain is what Debian's zkEnv.sh runs; with a single-server cfg it runs
  # standalone. nohup execs java in place, so the pid spawn records is the JVM's.
  spawn nohup java -Xmx512m -XX:+ExitOnOutOfMemoryError \
    -Dlog4j.configuration="file:$DIR/conf/log4j.properties" \
    -Dzookeeper.log.dir="$DIR" \
    -cp "$DIR/conf:$CLASSPATH_JARS" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$CFG"
  await_ready "zookeeper $(dpkg-query -W -f='${Version}' zookeeper)" "$HOSTS" "$START_TIMEOUT"
}

cmd_stop() { lock_run_dir "$DIR"; stop_started zookeeper 10; }

cmd_status() { report_status "$HOSTS" answering; }

cmd_env() { print_env_file "$ENVFILE" zookeeper; }

peer_main "$@"
