# Shared helpers for Intake's scripts. Source it; do not execute it.
#
# Layout outside the repo (never committed):
#   $INTAKE_CACHE  (default ~/.cache/intake)      downloads and built binaries, kept across runs
#   $INTAKE_RUN    (default $INTAKE_CACHE/run)     one folder per running peer: pid, log, data, env
# Every peer start script writes $INTAKE_RUN/<peer>.env (KEY=VALUE lines); tests and the
# run script read the peers' addresses only from those files (see peers_env below).

set -euo pipefail

INTAKE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INTAKE_CACHE="${INTAKE_CACHE:-$HOME/.cache/intake}"
INTAKE_RUN="${INTAKE_RUN:-$INTAKE_CACHE/run}"
mkdir -p "$INTAKE_CACHE" "$INTAKE_RUN"

log()  { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die()  { log "ERROR: $*"; exit 1; }

# wait_until <what> <timeout_s> <command...>: polls the command every 0.2 s until it succeeds.
wait_until() {
  local what="$1" timeout_s="$2"; shift 2
  local deadline=$((SECONDS + timeout_s))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "$what not ready after ${timeout_s}s"; return 1; fi
    sleep 0.2
  done
}

# fail_with_log <log> <message>: prints the log's tail and exits non-zero.
fail_with_log() {
  local logf="$1"; shift
  log "ERROR: $*"
  if [[ -f "$logf" ]]; then log "last lines of $logf:"; tail -n 40 "$logf" >&2; fi
  exit 1
}

# port_open <port>: true when something listens on 127.0.0.1:<port>.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive <pidfile>: true when the pid in the file is a live process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile <pidfile> [grace_s]: TERM, wait, then KILL exactly that pid; removes the file.
stop_pidfile() {
  local pidfile="$1" grace_s="${2:-10}" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + grace_s))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# peers_env: exports every KEY=VALUE from the running peers' env files.
peers_env() {
  local f
  for f in "$INTAKE_RUN"/*.env; do
    [[ -f "$f" ]] || continue
    set -a; source "$f"; set +a
  done
}

# apt_ensure <package...>: installs whichever packages are missing. Runs `apt-get update` first
# when the package lists are empty, and once more if an install fails (stale lists).
apt_ensure() {
  local -a missing=()
  local package
  for package in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" == "install ok installed" ]] || missing+=("$package")
  done
  ((${#missing[@]} > 0)) || return 0
  local apt_log="$INTAKE_CACHE/apt.log"
  local -a apt=(apt-get -q -y -o DPkg::Lock::Timeout=600 --no-install-recommends)
  export DEBIAN_FRONTEND=noninteractive
  log "installing Debian packages: ${missing[*]} (log: $apt_log)"
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    "${apt[@]}" update >"$apt_log" 2>&1 || fail_with_log "$apt_log" "apt-get update failed"
  fi
  if ! "${apt[@]}" install "${missing[@]}" >>"$apt_log" 2>&1; then
    "${apt[@]}" update >>"$apt_log" 2>&1 || fail_with_log "$apt_log" "apt-get update failed"
    "${apt[@]}" install "${missing[@]}" >>"$apt_log" 2>&1 || fail_with_log "$apt_log" "apt-get install ${missing[*]} failed"
  fi
}

# peer_main <action>: the command line of every scripts/peers/<peer>.sh — runs the script's
# cmd_<action> function (install, start, stop, status, env, and kill where defined).
peer_main() {
  local action="${1:-}"
  if [[ -z "$action" ]] || ! declare -F "cmd_$action" >/dev/null; then
    local actions; actions="$(declare -F | sed -n 's/^declare -f cmd_//p' | paste -sd'|')"
    echo "usage: $0 $actions" >&2
    exit 2
  fi
  "cmd_$action"
}

# print_env_file <file> <peer>: the `env` action of a peer script.
print_env_file() {
  [[ -f "$1" ]] || die "$2 not started ($1 missing)"
  cat "$1"
}
