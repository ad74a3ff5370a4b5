#!/usr/bin/env bash
# Writes the registry tree examples/registry-tree/ (one file per entry, laid out as the
# registry paths: keys/<id>, topics/<topic>, settings, brokers/<host:port>) into a running
# registry, under a prefix (docs/registry-layout.md). Entries already there are overwritten;
# entries the tree lacks are left alone (nothing is deleted).
#
#   examples/load-tree.sh consul    [prefix]   default prefix intake/  (one KV transaction per 64 entries)
#   examples/load-tree.sh etcd      [prefix]   default prefix intake/  (etcdctl put, entry by entry)
#   examples/load-tree.sh zookeeper [root]     default root   /intake  (zkCli.sh, one session)
#
# Where the registries are (defaults: the local peers of scripts/peers/*.sh; when those are
# running, their env files under ~/.cache/intake/run/ are read first):
#   CONSUL_HTTP_ADDR (http://127.0.0.1:18500), CONSUL_HTTP_TOKEN (optional),
#   ETCD_ENDPOINT (http://127.0.0.1:12379), ETCDCTL (etcdctl),
#   ZK_HOSTS (127.0.0.1:12181), ZKCLI (/usr/share/zookeeper/bin/zkCli.sh),
#   INTAKE_TREE (the tree to load; default the examples/registry-tree/ beside this script).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tree="${INTAKE_TREE:-$here/registry-tree}"
run_dir="${INTAKE_RUN:-$HOME/.cache/intake/run}"
die() { echo "load-tree.sh: $*" >&2; exit 1; }

# The local peers' addresses, when scripts/peers/*.sh started them (KEY=VALUE lines).
peer_value() {
  local file="$run_dir/$1.env"
  [[ -f "$file" ]] && sed -n "s/^$2=//p" "$file" | head -n1
  return 0
}

# Every entry of the tree as a relative path (keys/demo, settings, ...), sorted; editor
# leftovers and hidden files are skipped, as the file source skips them.
entries() {
  (cd "$tree" && find . -type f ! -name '.*' ! -name '*~' ! -name '*.swp' ! -name '*.tmp' ! -name '#*' \
     | sed 's|^\./||' | LC_ALL=C sort)
}

# A value as the registry stores it: the file's bytes without the final newline.
value_of() { local v; v="$(cat "$tree/$1")"; printf '%s' "$v"; }

load_consul() {
  local prefix="${1:-intake/}" addr token ops=() count=0
  addr="${CONSUL_HTTP_ADDR:-$(peer_value consul INTAKE_CONSUL_ADDR)}"
  addr="${addr:-http://127.0.0.1:18500}"
  [[ "$addr" == http*://* ]] || addr="http://$addr"
  [[ "$prefix" == */ ]] || prefix="$prefix/"
  token=()
  [[ -n "${CONSUL_HTTP_TOKEN:-}" ]] && token=(-H "X-Consul-Token: $CONSUL_HTTP_TOKEN")
  # One transaction per 64 entries (Consul's limit per transaction): Intake sees all of a
  # transaction or none of it.
  flush() {
    ((${#ops[@]} > 0)) || return 0
    local body; body="[$(IFS=,; echo "${ops[*]}")]"
    curl -sf --max-time 10 "${token[@]}" -X PUT --data-binary "$body" "$addr/v1/txn" >/dev/null \
      || die "Consul at $addr refused the transaction (is the agent up? ACL token?)"
    ops=()
  }
  local entry
  while IFS= read -r entry; do
    ops+=("{\"KV\":{\"Verb\":\"set\",\"Key\":\"$prefix$entry\",\"Value\":\"$(value_of "$entry" | base64 -w0)\"}}")
    count=$((count + 1))
    ((${#ops[@]} < 64)) || flush
  done < <(entries)
  flush
  echo "load-tree.sh: wrote $count entries under $prefix in Consul at $addr"
}

load_etcd() {
  local prefix="${1:-intake/}" endpoint etcdctl count=0 entry
  endpoint="${ETCD_ENDPOINT:-$(peer_value etcd INTAKE_ETCD_ENDPOINT)}"
  endpoint="${endpoint:-http://127.0.0.1:12379}"
  etcdctl="${ETCDCTL:-etcdctl}"
  command -v "$etcdctl" >/dev/null || die "no etcdctl (Debian: apt-get install etcd-client; or set ETCDCTL)"
  # The caller's ETCD_*/ETCDCTL_* variables would be read by etcdctl as flags and clash with ours.
  local unsets=() v
  for v in $(compgen -e); do [[ $v == ETCD_* || $v == ETCDCTL_* ]] && unsets+=(-u "$v"); done
  while IFS= read -r entry; do
    env "${unsets[@]}" ETCDCTL_API=3 "$etcdctl" --endpoints="$endpoint" --dial-timeout=3s --command-timeout=5s \
      put "$prefix$entry" "$(value_of "$entry")" >/dev/null || die "etcd at $endpoint refused $prefix$entry"
    count=$((count + 1))
  done < <(entries)
  echo "load-tree.sh: wrote $count entries under $prefix in etcd at $endpoint"
}

# zkCli.sh reads one command a line; a value in single quotes is taken as written (the tree's
# values hold no single quote). A folder is a znode with children: each folder is created just
# before its first entry, so it is never seen as an empty entry for long (docs/config-sources.md).
load_zookeeper() {
  local root="${1:-/intake}" hosts zkcli entry value script="" out count=0
  hosts="${ZK_HOSTS:-$(peer_value zookeeper INTAKE_ZK_HOSTS)}"
  hosts="${hosts:-127.0.0.1:12181}"
  zkcli="${ZKCLI:-$(peer_value zookeeper INTAKE_ZKCLI)}"
  zkcli="${zkcli:-/usr/share/zookeeper/bin/zkCli.sh}"
  [[ -x "$zkcli" ]] || die "no zkCli.sh at $zkcli (Debian: apt-get install zookeeper; or set ZKCLI)"
  [[ "$root" == /* ]] || die "the ZooKeeper root must be an absolute znode path, e.g. /intake"
  root="${root%/}"
  local -A folders=()
  local path="" part
  IFS=/ read -ra parts <<<"${root#/}"
  for part in "${parts[@]}"; do path="$path/$part"; script+="create $path"$'\n'; done
  while IFS= read -r entry; do
    value="$(value_of "$entry")"
    [[ "$value" != *"'"* ]] || die "$entry: a value with a single quote cannot go through zkCli.sh"
    local dir="${entry%/*}"
    if [[ "$dir" != "$entry" && -z "${folders[$dir]:-}" ]]; then
      path="$root"
      IFS=/ read -ra parts <<<"$dir"
      for part in "${parts[@]}"; do path="$path/$part"; script+="create $path"$'\n'; done
      folders[$dir]=1
    fi
    script+="create $root/$entry '$value'"$'\n'
    count=$((count + 1))
  done < <(entries)
  out="$(printf '%squit\n' "$script" | timeout 60 "$zkcli" -server "$hosts" 2>&1)" \
    || { echo "$out" >&2; die "zkCli.sh could not talk to ZooKeeper at $hosts"; }
  # Entries that existed already are overwritten in a second session.
  local update="" existing
  while IFS= read -r existing; do
    entry="${existing#"$root/"}"
    [[ -f "$tree/$entry" ]] || continue   # a folder (or the root) that existed: nothing to set
    update+="set $existing '$(value_of "$entry")'"$'\n'
  done < <(sed -n 's/^Node already exists: //p' <<<"$out")
  if [[ -n "$update" ]]; then
    printf '%squit\n' "$update" | timeout 60 "$zkcli" -server "$hosts" >/dev/null 2>&1 \
      || die "zkCli.sh could not update the existing entries at $hosts"
  fi
  echo "load-tree.sh: wrote $count entries under $root in ZooKeeper at $hosts"
}

[[ -d "$tree" ]] || die "no registry tree at $tree"
case "${1:-}" in
  consul) load_consul "${2:-}" ;;
  etcd) load_etcd "${2:-}" ;;
  zookeeper) load_zookeeper "${2:-}" ;;
  *) die "usage: load-tree.sh consul|etcd|zookeeper [prefix]" ;;
esac
